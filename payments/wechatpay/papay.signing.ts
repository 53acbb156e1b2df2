import type { V2SignType } from './crypto';

/**
 * Which APIv2 sign types each papay API takes; the client and the emulator both read this one table. What
 * WeChat's v2 papay pages say (pay.weixin.qq.com, as stored in the project's docs corpus, December 2026):
 *
 * | API | page | what it says |
 * |---|---|---|
 * | papay/deletecontract 申请解约 | wxpay_v2/papay/chapter3_9; partner doc/v2/partner/4011988374 | "签名方式: MD5" |
 * | papay/entrustweb 公众号纯签约 (not used here) | wxpay_v2/papay/chapter3_1 | "签名方式:MD5" |
 * | 小程序纯签约 extraData | wxpay_v2/papay/chapter3_3; doc/v2/merchant/4011984050 | no 签名方式 line; the examples carry no sign_type and a 32-hex sign (MD5's length) |
 * | papay/querycontract 查询签约关系 | chapter3_7 | no 签名方式 line, no sign_type parameter |
 * | pay/pappayapply 申请扣款 | chapter3_8 | no 签名方式 line, no sign_type parameter |
 * | pay/paporderquery 查询订单 | doc/v2/merchant/4013894074 | no 签名方式 line, no sign_type parameter; a 32-hex example sign |
 * | pay/contractorder 支付中签约 | chapter3_5 | no 签名方式 line in what we could read |
 * | 签约/解约结果通知, 扣款结果通知 | chapter3_6; doc/v2/merchant/4011987465 | "一定要做签名验证"; the type is not stated |
 *
 * So our client signs every papay request MD5, the one type the pages name, and sends no `sign_type` (no
 * page lists the field). The emulator refuses anything but MD5 where a page says MD5 (deletecontract);
 * where the page is silent it takes MD5 and also HMAC-SHA256 named in a `sign_type` field (as WxJava sends
 * when a merchant configures HMAC): WeChat's answer to that is undocumented, and refusing would be as much
 * a guess as accepting. Answers and notifications are signed with the type of the request behind them: a
 * WeChat engineer's statement for ordinary v2 payments ("返回的签名方式,是和你统一下单时候传的是一致的",
 * developers.weixin.qq.com community, 2020-03-06), carried over to papay — inferred, not documented there.
 */
export const PAPAY_SIGN_TYPES = {
  '/pay/pappayapply': ['MD5', 'HMAC-SHA256'],
  '/pay/paporderquery': ['MD5', 'HMAC-SHA256'],
  '/pay/contractorder': ['MD5', 'HMAC-SHA256'],
  '/papay/querycontract': ['MD5', 'HMAC-SHA256'],
  '/papay/deletecontract': ['MD5'],
  /** extraData of wx.navigateToMiniProgram to the signing mini-program (小程序纯签约). */
  entrust: ['MD5', 'HMAC-SHA256'],
} as const satisfies Record<string, readonly V2SignType[]>;

export type PapayApi = keyof typeof PAPAY_SIGN_TYPES;

/** What our client signs every papay request with (and, for pay-and-sign, the wx.requestPayment that follows). */
export const CLIENT_SIGN_TYPE: V2SignType = 'MD5';

/**
 * The sign type a request to `api` is verified with: the `sign_type` it names when the API takes more than
 * one, else MD5. Undefined when it names a type the API does not take (WeChat answers 签名错误; inferred).
 */
export function requestSignType(api: PapayApi, signTypeField: string | undefined): V2SignType | undefined {
  const allowed: readonly V2SignType[] = PAPAY_SIGN_TYPES[api];
  if (allowed.length === 1) return allowed[0];
  const named = signTypeField ?? 'MD5';
  return (allowed as readonly string[]).includes(named) ? (named as V2SignType) : undefined;
}
