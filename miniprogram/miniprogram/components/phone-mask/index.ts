/**
 * The tap-anywhere mask. WeChat raises the phone prompt only from a tap on
 * `<button open-type="getPhoneNumber">`, never by redirect, so the whole mask is that button.
 * Emits `phone` with `{ code }` when the shopper allows, `denied` otherwise.
 */
Component({
  properties: {
    show: { type: Boolean, value: false },
    busy: { type: Boolean, value: false },
  },
  methods: {
    onGetPhoneNumber(e: WechatMiniprogram.CustomEvent<{ code?: string; errMsg?: string }>) {
      const code = e.detail?.code;
      if (code) this.triggerEvent('phone', { code });
      else this.triggerEvent('denied', { errMsg: e.detail?.errMsg ?? '' });
    },
  },
});
