import { services } from '../../utils/services';
import { ensureSession } from '../../utils/session';
import { parseEntry, parseScanResult, type CabinetEntry } from '../../utils/qr';
import { decideEntry, urlFor, PAGES } from '../../utils/router';
import { failureText } from '../../utils/texts';
import { formatFen } from '../../utils/money';
import type { CabinetResponse } from '../../utils/wire';

/**
 * Home, and the landing page of every cabinet QR. It signs in, shows the phone mask until the phone is
 * authorised, then routes: debt first, then the cabinet's flow as the service records it.
 * Written with Component() (pages may be), which is also what miniprogram-simulate can load.
 */
Component({
  data: {
    loading: true,
    showMask: false,
    busy: false,
    error: '',
    phone: '',
    debtText: '',
    /** The cabinet the shopper scanned, held while the mask or a refusal is in the way. */
    entry: null as CabinetEntry | null,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ entry: parseEntry(query) ?? null });
      void this.route();
    },

    /** Signs in if needed, then applies decideEntry until it names a page or the mask. */
    async route() {
      const { api, platform, tokens } = services();
      this.setData({ loading: true, error: '' });
      const session = await ensureSession(api, platform, tokens);
      if (!session.ok) return this.setData({ loading: false, error: failureText(session.error) });
      const me = await api.me();
      if (!me.ok) return this.setData({ loading: false, error: failureText(me.error) });
      this.setData({ phone: me.value.shopper.phone ?? '', debtText: me.value.debt.totalFen > 0 ? formatFen(me.value.debt.totalFen) : '' });
      const entry = this.data.entry ?? undefined;
      let cabinet: CabinetResponse | undefined;
      let next = decideEntry({ me: me.value, entry });
      if (next.kind === 'resolve_cabinet') {
        const c = await api.cabinet(next.entry.cabinetId, next.entry.flow);
        if (!c.ok) return this.setData({ loading: false, error: failureText(c.error), entry: null });
        cabinet = c.value;
        next = decideEntry({ me: me.value, entry, cabinet });
      }
      this.setData({ loading: false, showMask: next.kind === 'mask' });
      switch (next.kind) {
        case 'mask':
        case 'home':
          return;
        case 'resolve_cabinet':
          return; // unreachable: the cabinet was fetched above
        case 'debt':
        case 'papay':
        case 'cabinet':
          // The scan is consumed once it leads somewhere; coming back shows a plain home.
          this.setData({ entry: null });
          return services().platform.navigateTo(urlFor(next));
      }
    },

    async onPhone(e: WechatMiniprogram.CustomEvent<{ code: string }>) {
      await this.authorisePhone(e.detail.code);
    },

    async authorisePhone(code: string) {
      const { api, platform } = services();
      this.setData({ busy: true });
      const r = await api.phone(code);
      this.setData({ busy: false });
      if (!r.ok) return platform.toast(failureText(r.error));
      this.setData({ showMask: false });
      await this.route();
    },

    async onPhoneDenied() {
      const { platform } = services();
      // DevTools against the sandbox: the button yields no code there, the WeChat emulator does.
      const code = platform.phoneCode ? await platform.phoneCode() : undefined;
      if (code) return this.authorisePhone(code);
      platform.toast('需要授权手机号才能扫码购物');
    },

    async onScan() {
      const { platform } = services();
      const r = await platform.scanCode();
      if (!r) return;
      const entry = parseScanResult(r);
      if (!entry) return platform.toast('这不是柜子上的二维码');
      this.setData({ entry });
      await this.route();
    },

    onRetry() {
      void this.route();
    },

    onOrders() {
      services().platform.navigateTo(PAGES.orders);
    },

    onDebt() {
      services().platform.navigateTo(PAGES.debt);
    },
  },
});
