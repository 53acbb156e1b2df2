import { services } from '../../utils/services';
import { formatFen } from '../../utils/money';
import { failureText, ORDER_STATUS_TEXT } from '../../utils/texts';
import { formatTime } from '../../utils/time';
import type { Order } from '../../utils/wire';

const SOURCE_TEXT: Readonly<Record<Order['source'], string>> = { cart: '购物车下单', recognition: '视频识别', review: '人工复核' };
const APPEAL_TEXT = { open: '申诉处理中', decided: '申诉已处理' } as const;

/** The itemised receipt, and the appeal form: shoppers may contest any order; an operator decides. */
Component({
  data: {
    loading: true,
    orderId: '',
    status: '',
    lines: [] as { sku: string; name: string; qty: number; unit: string; amount: string }[],
    total: '',
    paid: '',
    refunded: '',
    source: '',
    evidence: '',
    pricedAt: '',
    appeal: '',
    canAppeal: false,
    reason: '',
    submitting: false,
    error: '',
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ orderId: query['orderId'] ?? '' });
      void this.load();
    },
    async load() {
      const r = await services().api.order(this.data.orderId);
      if (!r.ok) return this.setData({ loading: false, error: failureText(r.error) });
      this.show(r.value);
    },
    show(o: Order) {
      this.setData({
        loading: false,
        status: ORDER_STATUS_TEXT[o.status],
        lines: o.lines.map((l) => ({ sku: l.sku, name: l.name, qty: l.qty, unit: formatFen(l.unitPriceFen), amount: formatFen(l.amountFen) })),
        total: formatFen(o.totalFen),
        paid: formatFen(o.paidFen),
        refunded: o.refundedFen > 0 ? formatFen(o.refundedFen) : '',
        source: SOURCE_TEXT[o.source],
        evidence: o.evidence ? `${o.evidence.frames} 张画面${o.evidence.confidence !== undefined ? `，置信度 ${Math.round(o.evidence.confidence * 100)}%` : ''}${o.evidence.reviewed ? '，已人工复核' : ''}` : '',
        // Prices as they stood when the door closed (a visit) or at checkout (a cart): a later price change does not apply.
        pricedAt: o.pricedAt ? `价格按${o.source === 'cart' ? '下单时' : '关门时'}（${formatTime(o.pricedAt)}）计` : '',
        appeal: o.appeal ? `${APPEAL_TEXT[o.appeal.status]}：${o.appeal.reason}` : '',
        canAppeal: !o.appeal && o.status !== 'cancelled',
      });
    },
    onReason(e: WechatMiniprogram.Input) {
      this.setData({ reason: e.detail.value });
    },
    /** 提交申诉 (the service sends no message for an appeal's decision, so nothing is asked here). */
    onAppeal() {
      const reason = this.data.reason.trim();
      if (reason.length < 2) return this.setData({ error: '请填写申诉原因（至少2个字）' });
      void this.appeal(reason.slice(0, 500));
    },
    async appeal(reason: string) {
      this.setData({ submitting: true, error: '' });
      const r = await services().api.appeal(this.data.orderId, reason);
      this.setData({ submitting: false });
      if (!r.ok) return this.setData({ error: failureText(r.error) });
      this.setData({ appeal: `${APPEAL_TEXT[r.value.appeal.status]}：${r.value.appeal.reason}`, canAppeal: false, reason: '' });
      services().platform.toast('申诉已提交');
    },
  },
});
