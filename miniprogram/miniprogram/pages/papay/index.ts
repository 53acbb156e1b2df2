import { services } from '../../utils/services';
import { parseEntry, type CabinetEntry } from '../../utils/qr';
import { resumeUrl } from '../../utils/router';
import { failureText } from '../../utils/texts';
import { papayHint } from '../../utils/papay-hint';

/**
 * 开通免密支付 for fully automatic cabinets: open WeChat's signing mini-program, and when the shopper comes
 * back (onShow) ask the server, whose notification or query is the only proof of a contract.
 */
Component({
  data: {
    /** idle → opening → confirming → active | not_signed */
    phase: 'idle' as 'idle' | 'opening' | 'confirming' | 'active' | 'not_signed',
    hint: '',
    error: '',
    entry: null as CabinetEntry | null,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ entry: parseEntry(query) ?? null });
    },

    onShow() {
      // Returning from the signing mini-program. Its own return_code is only shown as a hint.
      if (this.data.phase !== 'opening') return;
      const hint = papayHint.take();
      this.setData({ phase: 'confirming', hint: hint?.returnCode === 'SUCCESS' ? '签约已提交，正在确认' : '' });
      void this.confirm();
    },

    async onSign() {
      const { api, platform } = services();
      this.setData({ error: '' });
      const r = await api.papaySign();
      if (!r.ok) return this.setData({ error: failureText(r.error) });
      this.setData({ phase: 'opening' });
      const opened = await platform.navigateToMiniProgram({ appId: r.value.appId, path: r.value.path, extraData: r.value.extraData });
      if (!opened) this.setData({ phase: 'idle', error: '未能打开签约页面，请重试' });
    },

    /** Polls GET /papay/contract within the configured budget; 'active' is the only success. */
    async confirm() {
      const { api, platform, config } = services();
      for (const ms of [0, ...config.pollDelaysMs]) {
        if (ms > 0) await platform.sleep(ms);
        const r = await api.papayContract();
        if (!r.ok) continue;
        if (r.value.contract === 'active') {
          this.setData({ phase: 'active' });
          platform.toast('免密支付已开通');
          return platform.redirectTo(resumeUrl(this.data.entry ?? undefined));
        }
        if (r.value.contract !== 'signing') break;
      }
      this.setData({ phase: 'not_signed', hint: '' });
    },
  },
});
