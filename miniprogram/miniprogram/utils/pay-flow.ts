import { confirmPayment, type PaymentResult } from './payment';
import { askSubscribe } from './subscribe';
import type { Services } from './services.build';
import type { RequestPaymentParams } from './wire';

/**
 * wx.requestPayment, then the server's word on the order. `subscribeOnOk` is asked inside the payment's
 * success callback — one of the two moments WeChat allows it — so the shopper is not made to tap again.
 */
export async function payAndConfirm(s: Services, orderId: string, params: RequestPaymentParams, subscribeOnOk: readonly string[] = []): Promise<PaymentResult> {
  const outcome = await s.platform.requestPayment(params, { onOk: () => void askSubscribe(s.platform, subscribeOnOk) });
  return confirmPayment(orderId, outcome, { fetchOrder: (id) => s.api.order(id), sleep: (ms) => s.platform.sleep(ms), delaysMs: s.config.pollDelaysMs });
}
