import { systemClock, type Clock } from '../../common/clock';
import { buildV2Xml, nonceStr, parseV2Xml, v2Sign, v2Verify, type V2SignType } from './crypto';
import { CLIENT_SIGN_TYPE, type PapayApi } from './papay.signing';
import { wxFail, wxOk, type WxFailure, type WxResult } from './v3.client';
import { notifyUrl, type WechatConfig } from './wechat.config';

/**
 * papay v2 (委托代扣): XML over POST, signed with the APIv2 key in the type each API documents
 * (papay.signing.ts: MD5 everywhere, the one type the papay pages name). wechatpay-node-v3 has no v2
 * support, so this is our own small client. Every answer's `sign` is checked; a communication failure (return_code
 * FAIL, non-200, timeout, bad sign) is `unknown`, a business failure (result_code FAIL) is `rejected`.
 */

/** The signing mini-program every papay contract is signed in. */
export const PAPAY_SIGNING_APPID = 'wxbd687630cd02ce1d';

export type ContractState = 'signed' | 'terminated';
export interface PapayContract {
  contractId: string;
  planId: string;
  contractCode: string;
  openid: string;
  state: ContractState;
  signedTime?: string;
  terminatedTime?: string;
  terminationMode?: string;
}

export type PapayTradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR' | 'ACCEPT';
export interface PapayOrder {
  outTradeNo: string;
  tradeState: PapayTradeState;
  tradeStateDesc?: string;
  transactionId?: string;
  totalFee?: number;
  contractId?: string;
  errCode?: string;
  attach?: string;
}

/** v2 wx.requestPayment parameters (contractorder), signed with the APIv2 key and the order's sign type (MD5: CLIENT_SIGN_TYPE). */
export interface V2RequestPaymentParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: V2SignType;
  paySign: string;
}

export class PapayV2Client {
  private readonly clock: Clock;

  constructor(private readonly opts: { config: WechatConfig; clock?: Clock }) {
    this.clock = opts.clock ?? systemClock;
  }

  private get cfg(): WechatConfig {
    return this.opts.config;
  }

  /** A request serial: digits, increasing, ≤ 12 characters. */
  newRequestSerial(): string {
    return `${Math.floor(this.clock.now() / 1000)}${String(Math.floor(Math.random() * 100)).padStart(2, '0')}`;
  }

  /**
   * `extraData` for `wx.navigateToMiniProgram({ appId: PAPAY_SIGNING_APPID, path: 'pages/index/index', extraData })`.
   * Signed over the raw values; notify_url is URL-encoded only after signing.
   */
  signingExtraData(input: { contractCode: string; requestSerial: string; displayAccount: string }): Record<string, string> {
    const fields: Record<string, string> = {
      appid: this.cfg.appid,
      mch_id: this.cfg.mchid,
      plan_id: this.cfg.planId,
      contract_code: input.contractCode,
      request_serial: input.requestSerial,
      contract_display_account: input.displayAccount,
      notify_url: notifyUrl(this.cfg, 'contract'),
      timestamp: String(Math.floor(this.clock.now() / 1000)),
    };
    const sign = v2Sign(fields, this.cfg.apiV2Key, CLIENT_SIGN_TYPE);
    return { ...fields, notify_url: encodeURIComponent(fields.notify_url!), sign };
  }

  /** Pay-and-sign: a JSAPI order that also creates a contract when paid. */
  async contractOrder(input: { outTradeNo: string; body: string; totalFen: number; openid: string; attach?: string; contractCode: string; requestSerial: string; displayAccount: string; clientIp?: string }): Promise<WxResult<{ prepayId: string; requestPayment: V2RequestPaymentParams }>> {
    const r = await this.call('/pay/contractorder', {
      appid: this.cfg.appid,
      mch_id: this.cfg.mchid,
      body: input.body,
      out_trade_no: input.outTradeNo,
      total_fee: input.totalFen,
      spbill_create_ip: input.clientIp ?? '127.0.0.1',
      notify_url: notifyUrl(this.cfg, 'papay'),
      trade_type: 'JSAPI',
      openid: input.openid,
      attach: input.attach,
      plan_id: this.cfg.planId,
      contract_code: input.contractCode,
      request_serial: input.requestSerial,
      contract_display_account: input.displayAccount,
      contract_notify_url: notifyUrl(this.cfg, 'contract'),
    });
    if (!r.ok) return r;
    const prepayId = r.value.prepay_id;
    if (!prepayId) return wxFail(localFailure('unknown', 'BAD_RESPONSE', 'contractorder answer without prepay_id'));
    return wxOk({ prepayId, requestPayment: this.requestPaymentFor(prepayId) });
  }

  requestPaymentFor(prepayId: string): V2RequestPaymentParams {
    const p = { appId: this.cfg.appid, timeStamp: String(Math.floor(this.clock.now() / 1000)), nonceStr: nonceStr(32), package: `prepay_id=${prepayId}`, signType: CLIENT_SIGN_TYPE };
    // v2 JSAPI: the payment's sign type must be the order's (contractorder was signed CLIENT_SIGN_TYPE).
    return { ...p, paySign: v2Sign(p, this.cfg.apiV2Key, CLIENT_SIGN_TYPE) };
  }

  async queryContract(by: { contractId: string } | { contractCode: string }): Promise<WxResult<PapayContract>> {
    const r = await this.call('/papay/querycontract', {
      appid: this.cfg.appid,
      mch_id: this.cfg.mchid,
      ...('contractId' in by ? { contract_id: by.contractId } : { plan_id: this.cfg.planId, contract_code: by.contractCode }),
      version: '1.0',
    });
    if (!r.ok) return r;
    const f = r.value;
    if (!f.contract_id || !f.contract_code || !f.openid) return wxFail(localFailure('unknown', 'BAD_RESPONSE', 'contract answer without ids'));
    return wxOk({
      contractId: f.contract_id,
      planId: f.plan_id ?? this.cfg.planId,
      contractCode: f.contract_code,
      openid: f.openid,
      state: f.contract_state === '0' ? 'signed' : 'terminated',
      ...(f.contract_signed_time ? { signedTime: f.contract_signed_time } : {}),
      ...(f.contract_terminated_time ? { terminatedTime: f.contract_terminated_time } : {}),
      ...(f.contract_termination_mode ? { terminationMode: f.contract_termination_mode } : {}),
    });
  }

  async deleteContract(input: { contractId: string; remark: string }): Promise<WxResult<void>> {
    const r = await this.call('/papay/deletecontract', { appid: this.cfg.appid, mch_id: this.cfg.mchid, contract_id: input.contractId, contract_termination_remark: input.remark, version: '1.0' });
    return r.ok ? wxOk(undefined) : r;
  }

  /** pappayapply: SUCCESS means accepted; the result comes by notification or paporderquery. */
  async apply(input: { outTradeNo: string; body: string; totalFen: number; contractId: string; attach?: string; clientIp?: string }): Promise<WxResult<'accepted'>> {
    const r = await this.call('/pay/pappayapply', {
      appid: this.cfg.appid,
      mch_id: this.cfg.mchid,
      body: input.body,
      out_trade_no: input.outTradeNo,
      total_fee: input.totalFen,
      fee_type: 'CNY',
      spbill_create_ip: input.clientIp ?? '127.0.0.1',
      notify_url: notifyUrl(this.cfg, 'papay'),
      trade_type: 'PAP',
      contract_id: input.contractId,
      attach: input.attach,
    });
    return r.ok ? wxOk('accepted') : r;
  }

  async queryOrder(outTradeNo: string): Promise<WxResult<PapayOrder>> {
    const r = await this.call('/pay/paporderquery', { appid: this.cfg.appid, mch_id: this.cfg.mchid, out_trade_no: outTradeNo });
    if (!r.ok) return r;
    return wxOk(papayOrderFrom(r.value));
  }

  /** Checks a v2 notification's sign (the type as notificationSignType says); undefined when it does not verify. */
  verifyNotification(xml: string): Record<string, string> | undefined {
    const f = parseV2Xml(xml);
    if (!f || f.mch_id !== this.cfg.mchid) return undefined;
    return v2Verify(f, this.cfg.apiV2Key, notificationSignType(f)) ? f : undefined;
  }

  private async call(path: PapayApi & `/${string}`, fields: Record<string, string | number | undefined>): Promise<WxResult<Record<string, string>>> {
    // MD5 and no sign_type field: the only type the papay pages name, and no page lists the field (papay.signing.ts).
    const signType = CLIENT_SIGN_TYPE;
    const req = { ...fields, nonce_str: nonceStr(32) };
    const body = buildV2Xml({ ...req, sign: v2Sign(req, this.cfg.apiV2Key, signType) });
    let text: string;
    let status: number;
    try {
      const res = await fetch(`${this.cfg.payBaseUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body, signal: AbortSignal.timeout(this.cfg.requestTimeoutMs) });
      status = res.status;
      text = await res.text();
    } catch (e) {
      const timeout = (e as Error).name === 'TimeoutError';
      return wxFail(localFailure('unknown', timeout ? 'TIMEOUT' : 'NETWORK', timeout ? `no answer within ${this.cfg.requestTimeoutMs} ms` : String((e as Error).message)));
    }
    if (status !== 200) return wxFail({ outcome: 'unknown', httpStatus: status, code: status === 429 ? 'FREQUENCY_LIMITED' : 'SYSTEM_ERROR', message: text.slice(0, 200), retryable: true });
    const f = parseV2Xml(text);
    if (!f) return wxFail({ ...localFailure('unknown', 'BAD_RESPONSE', 'answer is not v2 XML'), httpStatus: status });
    if (f.return_code !== 'SUCCESS') {
      // Communication-level refusal (bad sign, bad parameters format): nothing was done.
      return wxFail({ outcome: 'rejected', httpStatus: status, code: 'RETURN_FAIL', message: f.return_msg ?? 'FAIL', retryable: false });
    }
    // WeChat signs the answer with the request's sign type.
    if (!v2Verify(f, this.cfg.apiV2Key, signType)) return wxFail({ ...localFailure('unknown', 'RESPONSE_SIGNATURE', 'v2 answer sign does not verify'), httpStatus: status });
    if (f.result_code !== 'SUCCESS') {
      const code = f.err_code ?? 'FAIL';
      return wxFail({ outcome: code === 'SYSTEMERROR' ? 'unknown' : 'rejected', httpStatus: status, code, message: f.err_code_des ?? code, retryable: code === 'SYSTEMERROR' || code === 'FREQUENCY_LIMITED' });
    }
    return wxOk(f);
  }
}

/**
 * The sign type of a v2 notification: WeChat signs it with the type of the request behind it. A
 * pay-and-sign payment result names it in `sign_type`; a deduction result and a contract change carry no
 * such field, so the sign's own length tells (HMAC-SHA256 is 64 hex digits, MD5 32, as
 * wechatpay-axios-plugin reads them): a contract signed, or a deduction sent, while this client still
 * signed HMAC-SHA256 is still notified so. Either way only the APIv2 key makes a sign that verifies.
 */
export function notificationSignType(f: Record<string, string>): V2SignType {
  if (f.sign_type === 'HMAC-SHA256' || f.sign_type === 'MD5') return f.sign_type;
  if (f.sign?.length === 64) return 'HMAC-SHA256';
  return CLIENT_SIGN_TYPE;
}

export function papayOrderFrom(f: Record<string, string>): PapayOrder {
  return {
    outTradeNo: f.out_trade_no ?? '',
    tradeState: (f.trade_state ?? (f.result_code === 'SUCCESS' ? 'SUCCESS' : 'PAYERROR')) as PapayTradeState,
    ...(f.trade_state_desc ? { tradeStateDesc: f.trade_state_desc } : {}),
    ...(f.transaction_id ? { transactionId: f.transaction_id } : {}),
    ...(f.total_fee ? { totalFee: Number(f.total_fee) } : {}),
    ...(f.contract_id ? { contractId: f.contract_id } : {}),
    ...(f.err_code ? { errCode: f.err_code } : {}),
    ...(f.attach !== undefined ? { attach: f.attach } : {}),
  };
}

function localFailure(outcome: WxFailure['outcome'], code: string, message: string): WxFailure {
  return { outcome, code, message, retryable: true };
}
