import { services } from '../../utils/services';
import { parseEntry, type CabinetEntry } from '../../utils/qr';
import { resumeUrl } from '../../utils/router';
import { formatFen } from '../../utils/money';
import { debtReasonText, failureText, payRefusedText } from '../../utils/texts';
import { payAndConfirm } from '../../utils/pay-flow';
import { PAYMENT_TEXT } from '../../utils/payment';
import { newKeyId } from '../../utils/cart';

/** The debt payment's `Idempotency-Key`, per page instance. */
const debtKeys = new WeakMap<object, string>();

/**
 * 待支付欠款: shown before anything else whenever debt exists (a failed deduction, or an order an operator
 * raised after review). Paying it resumes the scan that brought the shopper here.
 */
Component({
  data: {
    loading: true,
    debts: [] as { debtId: string; orderId: string; reason: string; amount: string }[],
    total: '',
    canPapay: false,
    paying: false,
    message: '',
    error: '',
    entry: null as CabinetEntry | null,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ entry: parseEntry(query) ?? null });
      void this.load();
    },

    async load() {
      const { api } = services();
      this.setData({ loading: true, error: '' });
      const [debts, me] = await Promise.all([api.debts(), api.me()]);
      if (!debts.ok) return this.setData({ loading: false, error: failureText(debts.error) });
      if (debts.value.debts.length === 0) return this.cleared();
      this.setData({
        loading: false,
        debts: debts.value.debts.map((d) => ({ debtId: d.debtId, orderId: d.orderId, reason: debtReasonText(d.reason), amount: formatFen(d.amountFen) })),
        total: formatFen(debts.value.totalFen),
        canPapay: me.ok && me.value.contract === 'active',
      });
    },

    /** No debt left: go back through home so the scanned cabinet is routed on fresh state. */
    cleared() {
      const { platform } = services();
      platform.toast('欠款已结清');
      platform.redirectTo(resumeUrl(this.data.entry ?? undefined));
    },

    onPayWechat() {
      void this.pay('jsapi');
    },

    onPayPapay() {
      void this.pay('papay');
    },

    async pay(via: 'jsapi' | 'papay') {
      if (this.data.paying) return;
      const s = services();
      this.setData({ paying: true, message: '', error: '' });
      // One key for this page's debts until they are cleared: a retried payment is the same prepay.
      let key = debtKeys.get(this);
      if (!key) debtKeys.set(this, (key = newKeyId()));
      const r = await s.api.payDebts(via, key);
      if (!r.ok) return this.setData({ paying: false, error: failureText(r.error) });
      switch (r.value.result) {
        case 'cleared':
          this.setData({ paying: false });
          return this.load();
        case 'refused':
          return this.setData({ paying: false, error: payRefusedText(r.value.reason) });
        case 'pay': {
          const result = await payAndConfirm(s, r.value.orderId, r.value.requestPayment, [s.config.templates.debtCleared]);
          this.setData({ paying: false, message: result.status === 'failed' ? result.message : PAYMENT_TEXT[result.status] });
          // Only the server says the debt is gone; reload and let it decide.
          if (result.status === 'paid') return this.load();
          return;
        }
      }
    },
  },
});
