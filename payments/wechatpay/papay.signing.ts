import type { V2SignType } from './crypto';

/**
 * Which APIv2 sign types each papay API takes, as its pay.weixin.qq.com v2 page documents it; the client
 * and the emulator both read this one table. Where a page lists `sign_type` ("目前支持HMAC-SHA256和MD5，默认为
 * MD5") the request names its type in that field (absent = MD5); where it lists none, the API verifies MD5
 * only and a `sign_type` field is just another signed parameter.
 *
 * Read from the v2 papay pages (wechatpay.md S27) and the issue: deletecontract is MD5 only. Inferred, not
 * re-checked against the live pages here: querycontract, pappayapply, paporderquery and contractorder take
 * both; the signing mini-program's extraData takes both (WxJava signs it with the configured type).
 */
export const PAPAY_SIGN_TYPES = {
  '/pay/pappayapply': ['HMAC-SHA256', 'MD5'],
  '/pay/paporderquery': ['HMAC-SHA256', 'MD5'],
  '/pay/contractorder': ['HMAC-SHA256', 'MD5'],
  '/papay/querycontract': ['HMAC-SHA256', 'MD5'],
  '/papay/deletecontract': ['MD5'],
  /** extraData of wx.navigateToMiniProgram to the signing mini-program (纯签约). */
  entrust: ['HMAC-SHA256', 'MD5'],
} as const satisfies Record<string, readonly V2SignType[]>;

export type PapayApi = keyof typeof PAPAY_SIGN_TYPES;

/** The strongest type an API takes: what our client signs it with. */
export function clientSignType(api: PapayApi): V2SignType {
  return PAPAY_SIGN_TYPES[api][0];
}

/**
 * The sign type a request to `api` is verified with: the `sign_type` it names when the API takes that
 * field, else MD5. Undefined when it names a type the API does not take (WeChat answers 签名错误; inferred).
 */
export function requestSignType(api: PapayApi, signTypeField: string | undefined): V2SignType | undefined {
  const allowed: readonly V2SignType[] = PAPAY_SIGN_TYPES[api];
  if (allowed.length === 1) return allowed[0];
  const named = signTypeField ?? 'MD5';
  return (allowed as readonly string[]).includes(named) ? (named as V2SignType) : undefined;
}

/**
 * Contract (ADD / DELETE) notifications carry no `sign_type` (not in the notification's field list); WeChat
 * signs them with the type of the request that signed the contract (inferred), which for our client is the
 * signing extraData's and contractorder's type — the same, checked by a test.
 */
export const CONTRACT_NOTIFICATION_SIGN_TYPE: V2SignType = clientSignType('entrust');
