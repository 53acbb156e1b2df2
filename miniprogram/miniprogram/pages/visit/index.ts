import { services } from '../../utils/services';
import { isTerminal, progressSteps, VISIT_TEXT, type Step } from '../../utils/visit';
import { formatFen } from '../../utils/money';
import { failureText, WEAK_SIGNAL_HINT } from '../../utils/texts';
import { PAGES } from '../../utils/router';
import type { FlowKind, SessionState } from '../../utils/wire';

/** Polling stops when the page goes away; kept outside data because it is not rendered. */
const stopped = new WeakSet<object>();
const MAX_POLLS = 600;
/** Failed polls in a row after which the shopper is told the page is still trying (weak signal in the pantry). */
const HINT_AFTER_FAILURES = 2;

/**
 * A door visit's progress, from the server: 门已打开 → 识别中 → 已扣款 / 人工复核中 (automatic), or the
 * cart to pay for (semi-automatic). The page only reads state; the door and the charge are the server's.
 */
Component({
  data: {
    sessionId: '',
    cabinetId: '',
    flow: 'semi' as FlowKind,
    state: '' as SessionState | '',
    stateText: '',
    steps: [] as Step[],
    orderId: '',
    total: '',
    terminal: false,
    canShop: false,
    error: '',
    hint: '',
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      const sessionId = query['sessionId'];
      if (!sessionId) return services().platform.reLaunch(PAGES.home);
      const flow = query['flow'] === 'auto' ? 'auto' : 'semi';
      this.setData({ sessionId, cabinetId: query['cabinetId'] ?? '', flow, steps: progressSteps(flow, 'unlocking'), stateText: VISIT_TEXT.unlocking });
      void this.poll();
    },

    onUnload() {
      stopped.add(this);
    },

    async poll() {
      const { api, platform, config } = services();
      const delays = config.pollDelaysMs;
      let failures = 0;
      for (let i = 0; i < MAX_POLLS && !stopped.has(this); i++) {
        const r = await api.visit(this.data.sessionId);
        if (stopped.has(this)) return;
        if (r.ok) {
          const v = r.value;
          failures = 0;
          this.setData({
            hint: '',
            state: v.state,
            stateText: v.message ?? VISIT_TEXT[v.state],
            steps: progressSteps(this.data.flow, v.state),
            orderId: v.orderId ?? '',
            total: v.totalFen !== undefined ? formatFen(v.totalFen) : '',
            terminal: isTerminal(v.state),
            // Semi-automatic: the shopper adds what they took to the cart and pays, while or after the door is open.
            canShop: this.data.flow === 'semi' && (v.state === 'door_open' || v.state === 'awaiting_frames' || v.state === 'recognising' || v.state === 'awaiting_payment'),
            error: '',
          });
          if (isTerminal(v.state)) return;
        } else if (r.error.code !== 'NETWORK') {
          return this.setData({ error: failureText(r.error), hint: '' });
        } else if (++failures >= HINT_AFTER_FAILURES && !this.data.hint) {
          this.setData({ hint: WEAK_SIGNAL_HINT });
        }
        await platform.sleep(delays[Math.min(i, delays.length - 1)] ?? 2000);
      }
    },

    onShop() {
      services().platform.navigateTo(`${PAGES.cabinet}?cabinetId=${encodeURIComponent(this.data.cabinetId)}&flow=semi&sessionId=${encodeURIComponent(this.data.sessionId)}`);
    },
    onOrder() {
      if (this.data.orderId) services().platform.redirectTo(`${PAGES.order}?orderId=${encodeURIComponent(this.data.orderId)}`);
    },
    onDebt() {
      services().platform.redirectTo(PAGES.debt);
    },
    onHome() {
      services().platform.reLaunch(PAGES.home);
    },
  },
});
