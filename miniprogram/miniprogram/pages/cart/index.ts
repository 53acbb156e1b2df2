import { services } from '../../utils/services';
import { cartStore, checkoutKey, toCheckout, viewCart, type CartView } from '../../utils/cart';
import { nextForFailure, urlFor, PAGES } from '../../utils/router';
import { failureText } from '../../utils/texts';
import { payAndConfirm } from '../../utils/pay-flow';
import { PAYMENT_TEXT, type PaymentResult } from '../../utils/payment';
import type { CheckoutResponse } from '../../utils/wire';

/** The checkout answer in flight, reused on a retry so a cancelled payment never creates a second order. */
const pending = new WeakMap<object, { key: string; checkout: CheckoutResponse }>();

/**
 * 购物车 and payment, for open shelves and semi-automatic visits. Paying signs papay at the same time when the
 * shopper has no contract (pay-and-sign), so a later fully automatic cabinet needs no separate step.
 */
Component({
  data: {
    lines: [] as CartView['lines'],
    count: 0,
    total: '',
    signContract: false,
    offerSign: false,
    paying: false,
    /** '' | PaymentResult status */
    result: '' as '' | PaymentResult['status'],
    resultText: '',
    orderId: '',
    error: '',
  },
  methods: {
    onLoad() {
      const held = cartStore.get();
      if (!held) return services().platform.navigateBack();
      const v = viewCart(held.cart, held.items);
      this.setData({ lines: v.lines, count: v.count, total: v.total });
      void this.loadContract();
    },

    async loadContract() {
      const me = await services().api.me();
      if (me.ok && me.value.contract !== 'active') this.setData({ offerSign: true, signContract: true });
    },

    onToggleSign() {
      this.setData({ signContract: !this.data.signContract });
    },

    onPay() {
      void this.pay();
    },

    async pay() {
      const held = cartStore.get();
      if (!held || this.data.paying || this.data.result === 'paid' || this.data.result === 'confirming') return;
      const s = services();
      const req = toCheckout(held.cart, this.data.signContract && this.data.offerSign);
      if (!req) return;
      this.setData({ paying: true, error: '', result: '', resultText: '' });
      const key = JSON.stringify(req);
      let checkout = pending.get(this)?.key === key ? pending.get(this)?.checkout : undefined;
      if (!checkout) {
        const r = await s.api.checkout(req, checkoutKey(held.cartId, req));
        if (!r.ok) {
          this.setData({ paying: false });
          const next = nextForFailure(r.error.code, { cabinetId: held.cart.cabinetId });
          if (next && next.kind !== 'resolve_cabinet') return s.platform.redirectTo(urlFor(next));
          return this.setData({ error: failureText(r.error) });
        }
        checkout = r.value;
        pending.set(this, { key, checkout });
      }
      const t = s.config.templates;
      // Asked in the payment's success callback: a semi visit may still be reviewed and leave debt; an open-shelf
      // purchase cannot, and the service sends it nothing.
      const result = await payAndConfirm(s, checkout.orderId, checkout.requestPayment, held.cart.sessionId ? [t.debtCreated, t.debtCleared] : []);
      this.setData({ paying: false, result: result.status, orderId: result.orderId, resultText: result.status === 'failed' ? result.message : PAYMENT_TEXT[result.status] });
      if (result.status === 'paid') {
        cartStore.clear();
        pending.delete(this);
        s.platform.redirectTo(`${PAGES.order}?orderId=${encodeURIComponent(result.orderId)}`);
      }
    },

    onViewOrder() {
      if (this.data.orderId) services().platform.redirectTo(`${PAGES.order}?orderId=${encodeURIComponent(this.data.orderId)}`);
    },
  },
});
