import { services } from '../../utils/services';
import { formatFen } from '../../utils/money';
import { failureText, ORDER_STATUS_TEXT } from '../../utils/texts';
import { PAGES } from '../../utils/router';
import { formatTime } from '../../utils/time';


/** 我的订单: every order with its status; a tap opens the receipt. */
Component({
  data: {
    loading: true,
    orders: [] as { orderId: string; title: string; status: string; total: string; time: string; appealed: boolean }[],
    error: '',
  },
  methods: {
    onShow() {
      void this.load();
    },
    async load() {
      const r = await services().api.orders();
      if (!r.ok) return this.setData({ loading: false, error: failureText(r.error) });
      this.setData({
        loading: false,
        error: '',
        orders: r.value.orders.map((o) => ({
          orderId: o.orderId,
          title: o.lines.map((l) => `${l.name}×${l.qty}`).join('、') || '无商品',
          status: ORDER_STATUS_TEXT[o.status],
          total: formatFen(o.totalFen),
          time: formatTime(o.createdAt),
          appealed: o.appeal !== undefined,
        })),
      });
    },
    onOpen(e: WechatMiniprogram.BaseEvent) {
      const id = (e.currentTarget.dataset as { id?: string }).id;
      if (id) services().platform.navigateTo(`${PAGES.order}?orderId=${encodeURIComponent(id)}`);
    },
  },
});
