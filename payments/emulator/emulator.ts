import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import type { Clock } from '../../common/clock';
import { aeadEncrypt, buildV2Xml, nonceStr, paySignString, responseSigningString, rsaSign, rsaVerify, v2Sign, v2Verify, type V2SignType } from '../wechatpay/crypto';
import type { MerchantKeys } from './merchant';
import { Notifier, type Delivery, type NotificationJob } from './notifier';

/**
 * The WeChat peer's state and rules, apart from HTTP (server.ts maps routes onto these methods). One
 * merchant, its shoppers, orders (JSAPI and papay share the out_trade_no namespace), refunds, contracts,
 * mini-program codes and subscribe quotas; plus the fault switches the control API flips.
 */

export type PlatformMode = 'public_key' | 'certificate' | 'switching';

export type ApiFault =
  | { kind: 'status'; status: 429 | 500 | 502 | 503 }
  /** Hang without doing anything (the client times out; nothing happened). */
  | { kind: 'timeout_before' }
  /** Do the work, then hang (the client times out; it did happen). */
  | { kind: 'timeout_after' }
  | { kind: 'response'; response: 'no_signature' | 'bad_signature' | 'stale_timestamp' };

export type NotificationFault = 'duplicate' | 'reorder' | 'drop' | 'signtest' | 'wrong_signature' | 'stale_timestamp' | 'tampered_tag';

export interface EmuUser {
  openid: string;
  insufficientBalance: boolean;
  /** Deductions refused by risk control. */
  risk: boolean;
  phone: string;
}

/** The summary WeChat sends with each refund event (REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED). */
const REFUND_SUMMARY = { SUCCESS: '退款成功', ABNORMAL: '退款异常', CLOSED: '退款关闭' } as const;
export type RefundOutcome = keyof typeof REFUND_SUMMARY;
export const isRefundOutcome = (v: unknown): v is RefundOutcome => typeof v === 'string' && Object.hasOwn(REFUND_SUMMARY, v);

export type EmuTradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND' | 'PAYERROR' | 'ACCEPT';

export interface EmuOrder {
  outTradeNo: string;
  api: 'v3' | 'v2';
  tradeType: 'JSAPI' | 'PAP';
  appid: string;
  description: string;
  total: number;
  openid: string;
  attach?: string;
  notifyUrl: string;
  /** Canonical request, to tell an identical re-entry from a changed one. */
  fingerprint: string;
  createdAt: number;
  expiresAt: number;
  prepayId?: string;
  prepayExpiresAt?: number;
  state: EmuTradeState;
  stateDesc: string;
  transactionId?: string;
  successAt?: number;
  errCode?: string;
  refunded: number;
  contractId?: string;
  /** v2 orders: the request's sign type, which the trade result notification is signed with. */
  signType?: V2SignType;
  /** contractorder: the contract to create when this order is paid. */
  pendingContract?: ContractRequest;
}

/** What a signing request (signing mini-program extraData, or contractorder) asks for. */
export interface ContractRequest {
  planId: string;
  contractCode: string;
  requestSerial: string;
  displayAccount: string;
  notifyUrl: string;
  /**
   * The signing request's sign type: every notification about this contract is signed with it (inferred).
   * Contracts created directly by a test default to MD5, what this project's client signs with.
   */
  signType?: V2SignType;
}

export interface EmuRefund {
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  transactionId: string;
  refund: number;
  total: number;
  status: 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED';
  createdAt: number;
  successAt?: number;
  notifyUrl?: string;
  fingerprint: string;
  /** apply-abnormal-refund: where the money went instead of the closed card. */
  abnormalTo?: 'USER_BANK_CARD' | 'MERCHANT_BANK_CARD';
}

export interface EmuContract {
  contractId: string;
  planId: string;
  contractCode: string;
  requestSerial: string;
  displayAccount: string;
  openid: string;
  state: 'SIGNED' | 'TERMINATED';
  signedAt: number;
  expiresAt: number;
  terminatedAt?: number;
  /** 2 = user (inside WeChat), 3 = merchant API (unverified enum; see wechatpay.md §14). */
  terminationMode?: '2' | '3';
  terminationRemark?: string;
  notifyUrl: string;
  signType: V2SignType;
}

/** A successful movement of a shopper's money; the double-charge checks count these. */
export interface Charge {
  outTradeNo: string;
  attach?: string;
  openid: string;
  amount: number;
  transactionId: string;
  at: number;
}

/**
 * The merchant's papay template (plan) as configured in the merchant portal: WeChat sends a contract's
 * termination (DELETE, by the user or by deletecontract) to `terminationNotifyUrl`, never to the signing
 * request's notify_url, and nothing when it is unset; `signNotifyUrl` receives a signing result when the
 * signing request named no notify_url.
 */
export interface PapayTemplate {
  planId: string;
  signNotifyUrl?: string;
  terminationNotifyUrl?: string;
}

export interface EmulatorOptions {
  keys: MerchantKeys;
  clock: Clock;
  /** WeChat delays (retries, deduction settlement, refund completion) are divided by this. */
  timeScale: number;
  platformMode: PlatformMode;
  /** Base URL the emulator advertises in download URLs. */
  publicBaseUrl: () => string;
}

const DAY = 86_400_000;
export const TRANSACTION_AAD = 'transaction';

/** RFC3339 in +08:00, as WeChat writes times. */
export function rfc3339(ms: number): string {
  const d = new Date(ms + 8 * 3600_000);
  return `${d.toISOString().slice(0, 19)}+08:00`;
}
/** v2 time format yyyyMMddHHmmss in +08:00. */
export function v2Time(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}
/** plan_id is a number at WeChat: "074291" and "74291" name the same template (sandboxes made before had leading zeros). */
export const samePlan = (a: string, b: string): boolean => /^\d+$/.test(a) && /^\d+$/.test(b) && Number(a) === Number(b);
const digits = (n: number): string => Array.from(randomBytes(n), (b) => String(b % 10)).join('');

export class WechatEmulator {
  readonly merchant: MerchantKeys['merchant'];
  readonly users = new Map<string, EmuUser>();
  readonly orders = new Map<string, EmuOrder>();
  readonly prepays = new Map<string, string>(); // prepay_id → out_trade_no
  readonly refunds = new Map<string, EmuRefund>();
  readonly contracts = new Map<string, EmuContract>();
  readonly usedContractCodes = new Set<string>();
  readonly charges: Charge[] = [];
  readonly papayTemplate: PapayTemplate;
  /** Trade bills asked for, in order (tests check what the client requested). */
  readonly billRequests: Array<{ billDate: string; tarType: 'GZIP' | 'NONE' }> = [];
  readonly notifier: Notifier;
  readonly apiFaults = new Map<string, ApiFault[]>();
  readonly notificationFaults: NotificationFault[] = [];
  /** Reject a repeated request nonce within the window (WeChat's behaviour is unverified: a toggle). */
  rejectReplayedNonce = false;
  readonly seenNonces = new Map<string, number>();
  /** When false, no notifications at all (as when the APIv3 key is not set in the portal). */
  notificationsEnabled = true;
  /** Refund delays and deduction settlement, in WeChat milliseconds (scaled). */
  deductionDelayMs = 3000;
  refundDelayMs = 5000;
  /** How the next refunds end at WeChat: SUCCESS, or ABNORMAL (the shopper's card was closed). */
  readonly refundOutcomes: RefundOutcome[] = [];
  /** Identical prepay re-entry returns the same prepay_id within validity (§14.2: configurable). */
  samePrepayIdOnReentry = true;
  merchantBalanceInsufficient = false;
  private heldForReorder: Array<() => void> = [];
  private seq = 0;
  // mini-program platform
  readonly loginCodes = new Map<string, { openid: string; expiresAt: number; used: boolean }>();
  readonly phoneCodes = new Map<string, { phone: string; used: boolean }>();
  readonly accessTokens = new Map<string, number>();
  /** cgi-bin/stable_token: the current stable token, forced refreshes today, tokens issued. */
  stableToken: { token: string; expiresAt: number } | undefined;
  stableTokenForcedToday = 0;
  stableTokenRequests = 0;
  /** Mini-program codes made (wxa/getwxacodeunlimit). */
  readonly wxacodes: Array<{ scene: string; page: string; width: number }> = [];
  readonly subscribeQuota = new Map<string, number>();
  readonly sentMessages: Array<{ touser: string; template_id: string; page?: string; data: Record<string, { value: string }>; at: number }> = [];

  constructor(readonly opts: EmulatorOptions) {
    this.merchant = opts.keys.merchant;
    this.papayTemplate = { planId: this.merchant.planId };
    this.notifier = new Notifier(opts.clock, opts.timeScale);
  }

  get clock(): Clock {
    return this.opts.clock;
  }

  scaled(ms: number): number {
    return ms / this.opts.timeScale;
  }

  // ---- shoppers ---------------------------------------------------------------------------------------

  /** A shopper of this mini-program; openids are per appid, so prepay checks the payer belongs to it. */
  ensureUser(openid?: string): EmuUser {
    const id = openid ?? `o${randomBytes(14).toString('base64url')}`;
    let u = this.users.get(id);
    if (!u) {
      u = { openid: id, insufficientBalance: false, risk: false, phone: `139${digits(8)}` };
      this.users.set(id, u);
    }
    return u;
  }

  // ---- faults ---------------------------------------------------------------------------------------

  injectApiFault(route: string, fault: ApiFault, times = 1): void {
    const list = this.apiFaults.get(route) ?? [];
    for (let i = 0; i < times; i++) list.push(fault);
    this.apiFaults.set(route, list);
  }

  takeApiFault(route: string): ApiFault | undefined {
    const list = this.apiFaults.get(route);
    const f = list?.shift();
    if (list && !list.length) this.apiFaults.delete(route);
    return f;
  }

  injectNotificationFault(fault: NotificationFault, times = 1): void {
    for (let i = 0; i < times; i++) this.notificationFaults.push(fault);
  }

  // ---- signing ---------------------------------------------------------------------------------------

  /** The serial and key that sign an answer: in switching mode, the public key only when the request asked for it. */
  platformSigner(requestSerial?: string, forCallback = false): { serial: string; key: KeyObject } {
    const pub = { serial: this.merchant.platformPublicKeyId, key: this.opts.keys.platformPrivateKey };
    const cert = { serial: this.merchant.platformCertSerial, key: this.opts.keys.platformCertPrivateKey };
    switch (this.opts.platformMode) {
      case 'public_key':
        return pub;
      case 'certificate':
        return cert;
      case 'switching':
        if (forCallback) return Math.random() < 0.5 ? pub : cert;
        return requestSerial?.startsWith('PUB_KEY_ID_') ? pub : cert;
    }
  }

  signHeaders(body: string, signer: { serial: string; key: KeyObject }, opts: { stale?: boolean; badSignature?: boolean; signtest?: boolean } = {}): Record<string, string> {
    const ts = String(Math.floor(this.clock.now() / 1000) - (opts.stale ? 600 : 0));
    const nonce = nonceStr(32);
    let signature = rsaSign(responseSigningString(ts, nonce, body), signer.key);
    if (opts.badSignature) signature = rsaSign(responseSigningString(ts, nonce, `${body} `), signer.key);
    if (opts.signtest) signature = `WECHATPAY/SIGNTEST/${signature.slice(19)}`;
    return {
      'Wechatpay-Timestamp': ts,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': signer.serial,
      'Wechatpay-Signature': signature,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
    };
  }

  v2Signed(fields: Record<string, string | number | undefined>, signType: V2SignType): string {
    return buildV2Xml({ ...fields, sign: v2Sign(fields, this.merchant.apiV2Key, signType) });
  }

  // ---- v3 JSAPI --------------------------------------------------------------------------------------

  /** Lazily applies automatic closing at time_expire; a paid order never closes. */
  current(o: EmuOrder): EmuOrder {
    if ((o.state === 'NOTPAY' || o.state === 'PAYERROR') && o.api === 'v3' && this.clock.now() >= o.expiresAt) {
      o.state = 'CLOSED';
      o.stateDesc = '订单已关闭';
    }
    return o;
  }

  newPrepayId(): string {
    return `wx${v2Time(this.clock.now())}${randomBytes(11).toString('hex')}`;
  }

  newTransactionId(): string {
    return `42000${digits(5)}${v2Time(this.clock.now()).slice(0, 8)}${digits(10)}`.slice(0, 28);
  }

  transactionJson(o: EmuOrder): Record<string, unknown> {
    const paid = o.state === 'SUCCESS' || o.state === 'REFUND';
    return {
      appid: o.appid,
      mchid: this.merchant.mchid,
      out_trade_no: o.outTradeNo,
      ...(o.transactionId ? { transaction_id: o.transactionId } : {}),
      ...(paid ? { trade_type: o.tradeType === 'PAP' ? 'JSAPI' : o.tradeType } : {}),
      trade_state: o.state === 'ACCEPT' ? 'NOTPAY' : o.state,
      trade_state_desc: o.stateDesc,
      ...(paid ? { bank_type: 'OTHERS' } : {}),
      ...(o.attach !== undefined ? { attach: o.attach } : {}),
      ...(o.successAt ? { success_time: rfc3339(o.successAt) } : {}),
      payer: { openid: o.openid },
      amount: paid ? { total: o.total, payer_total: o.total, currency: 'CNY', payer_currency: 'CNY' } : { total: o.total, currency: 'CNY' },
    };
  }

  /** The shopper's WeChat client pays (or fails to). Verifies paySign as WeChat does. */
  pay(p: { appId: string; timeStamp: string; nonceStr: string; package: string; signType: string; paySign: string }): { ok: true; transactionId: string } | { ok: false; errMsg: string } {
    const prepayId = p.package.startsWith('prepay_id=') ? p.package.slice(10) : '';
    const no = this.prepays.get(prepayId);
    const o = no ? this.orders.get(no) : undefined;
    if (!o) return { ok: false, errMsg: 'requestPayment:fail prepay_id invalid' };
    if (p.appId !== o.appid) return { ok: false, errMsg: 'requestPayment:fail appid mismatch' };
    const valid =
      p.signType === 'RSA'
        ? rsaVerify(paySignString(p.appId, p.timeStamp, p.nonceStr, p.package), p.paySign, this.opts.keys.merchantPublicKey)
        : v2Verify({ appId: p.appId, timeStamp: p.timeStamp, nonceStr: p.nonceStr, package: p.package, signType: p.signType, sign: p.paySign }, this.merchant.apiV2Key, p.signType === 'MD5' ? 'MD5' : 'HMAC-SHA256');
    if (!valid) return { ok: false, errMsg: 'requestPayment:fail 支付验证签名失败' };
    if (o.prepayExpiresAt !== undefined && this.clock.now() > o.prepayExpiresAt) return { ok: false, errMsg: 'requestPayment:fail prepay_id expired' };
    this.current(o);
    if (o.state === 'SUCCESS' || o.state === 'REFUND') return { ok: false, errMsg: 'requestPayment:fail 该订单已支付' };
    if (o.state === 'CLOSED') return { ok: false, errMsg: 'requestPayment:fail 订单已关闭' };
    const user = this.ensureUser(o.openid);
    if (user.insufficientBalance) {
      // A failed attempt leaves the order NOTPAY: the shopper may retry with another card.
      return { ok: false, errMsg: 'requestPayment:fail 余额不足' };
    }
    this.settleSuccess(o);
    return { ok: true, transactionId: o.transactionId! };
  }

  private settleSuccess(o: EmuOrder): void {
    o.state = 'SUCCESS';
    o.stateDesc = '支付成功';
    o.transactionId = this.newTransactionId();
    o.successAt = this.clock.now();
    this.charges.push({ outTradeNo: o.outTradeNo, attach: o.attach, openid: o.openid, amount: o.total, transactionId: o.transactionId, at: o.successAt });
    if (o.api === 'v3') this.notifyV3(o.notifyUrl, 'TRANSACTION.SUCCESS', '支付成功', 'transaction', TRANSACTION_AAD, () => this.transactionJson(o), `pay ${o.outTradeNo}`);
    else this.notifyV2Payment(o);
    if (o.pendingContract) {
      const c = this.createContract(o.openid, o.pendingContract);
      if ('contractId' in c) o.contractId = c.contractId;
      o.pendingContract = undefined;
    }
  }

  // ---- refunds -----------------------------------------------------------------------------------------

  refundJson(r: EmuRefund, forNotification = false): Record<string, unknown> {
    const status = forNotification ? { refund_status: r.status } : { status: r.status, channel: 'ORIGINAL', create_time: rfc3339(r.createdAt), funds_account: 'AVAILABLE' };
    return {
      ...(forNotification ? { mchid: this.merchant.mchid } : {}),
      refund_id: r.refundId,
      out_refund_no: r.outRefundNo,
      transaction_id: r.transactionId,
      out_trade_no: r.outTradeNo,
      user_received_account: '支付用户零钱',
      ...(r.successAt ? { success_time: rfc3339(r.successAt) } : {}),
      ...status,
      amount: { total: r.total, refund: r.refund, payer_total: r.total, payer_refund: r.refund, ...(forNotification ? {} : { settlement_refund: r.refund, settlement_total: r.total, discount_refund: 0, currency: 'CNY', from: [] }) },
    };
  }

  completeRefundLater(r: EmuRefund): void {
    // An abnormal refund applied again goes through (its new account is open).
    const outcome = r.abnormalTo ? 'SUCCESS' : (this.refundOutcomes.shift() ?? 'SUCCESS');
    this.clock.schedule(this.scaled(this.refundDelayMs), () => {
      if (r.status !== 'PROCESSING') return;
      r.status = outcome;
      if (outcome === 'SUCCESS') r.successAt = this.clock.now();
      if (r.notifyUrl) this.notifyV3(r.notifyUrl, `REFUND.${outcome}`, REFUND_SUMMARY[outcome], 'refund', 'refund', () => this.refundJson(r, true), `refund ${r.outRefundNo}`);
    });
  }

  // ---- papay (v2) ------------------------------------------------------------------------------------

  contractByCode(planId: string, code: string): EmuContract | undefined {
    for (const c of this.contracts.values()) if (samePlan(c.planId, planId) && c.contractCode === code) return c;
    return undefined;
  }

  /** The signing mini-program (or a paid contractorder) creates a contract; contract codes are never reusable. */
  createContract(openid: string, req: ContractRequest): EmuContract | { error: string } {
    if (!samePlan(req.planId, this.merchant.planId)) return { error: 'PLAN_NOT_EXIST' };
    if (this.usedContractCodes.has(req.contractCode)) return { error: 'CONTRACT_CODE_USED' };
    this.usedContractCodes.add(req.contractCode);
    const now = this.clock.now();
    const c: EmuContract = {
      contractId: `2${v2Time(now).slice(2, 14)}${digits(11)}`,
      planId: req.planId,
      contractCode: req.contractCode,
      requestSerial: req.requestSerial,
      displayAccount: req.displayAccount,
      openid,
      state: 'SIGNED',
      signedAt: now,
      expiresAt: now + 5 * 365 * DAY,
      notifyUrl: req.notifyUrl,
      signType: req.signType ?? 'MD5',
    };
    this.contracts.set(c.contractId, c);
    this.notifyContract(c, 'ADD');
    return c;
  }

  terminateContract(c: EmuContract, mode: '2' | '3', remark: string): void {
    if (c.state === 'TERMINATED') return;
    c.state = 'TERMINATED';
    c.terminatedAt = this.clock.now();
    c.terminationMode = mode;
    c.terminationRemark = remark;
    this.notifyContract(c, 'DELETE');
  }

  contractFields(c: EmuContract): Record<string, string> {
    return {
      contract_id: c.contractId,
      plan_id: c.planId,
      request_serial: c.requestSerial,
      contract_code: c.contractCode,
      contract_display_account: c.displayAccount,
      contract_state: c.state === 'SIGNED' ? '0' : '1',
      contract_signed_time: v2Time(c.signedAt),
      contract_expired_time: v2Time(c.expiresAt),
      ...(c.terminatedAt ? { contract_terminated_time: v2Time(c.terminatedAt), contract_termination_mode: c.terminationMode!, contract_termination_remark: c.terminationRemark ?? '' } : {}),
      openid: c.openid,
    };
  }

  /** pappayapply accepted: the deduction settles asynchronously. */
  settleDeductionLater(o: EmuOrder): void {
    this.clock.schedule(this.scaled(this.deductionDelayMs), () => this.settleDeduction(o));
  }

  settleDeduction(o: EmuOrder): void {
    if (o.state !== 'ACCEPT') return;
    const c = o.contractId ? this.contracts.get(o.contractId) : undefined;
    const user = this.ensureUser(o.openid);
    let err: [string, string] | undefined;
    if (!c || c.state !== 'SIGNED') err = ['CONTRACT_NOT_EXIST', '签约协议不存在或已解约'];
    else if (user.risk) err = ['RULELIMIT', '交易受限，风控拒绝'];
    else if (user.insufficientBalance) err = ['NOTENOUGH', '用户余额不足'];
    if (err) {
      o.state = 'PAYERROR';
      o.stateDesc = err[1];
      o.errCode = err[0];
      this.notifyV2Payment(o);
      return;
    }
    this.settleSuccess(o);
  }

  v2OrderFields(o: EmuOrder): Record<string, string | number | undefined> {
    return {
      appid: o.appid,
      mch_id: this.merchant.mchid,
      openid: o.openid,
      is_subscribe: 'N',
      trade_type: o.tradeType,
      trade_state: o.state,
      trade_state_desc: o.stateDesc,
      bank_type: o.state === 'SUCCESS' || o.state === 'REFUND' ? 'OTHERS' : undefined,
      total_fee: o.total,
      cash_fee: o.state === 'SUCCESS' || o.state === 'REFUND' ? o.total : undefined,
      fee_type: 'CNY',
      transaction_id: o.transactionId,
      out_trade_no: o.outTradeNo,
      attach: o.attach,
      time_end: o.successAt ? v2Time(o.successAt) : undefined,
      contract_id: o.contractId,
    };
  }

  // ---- notifications ---------------------------------------------------------------------------------

  private jobId(prefix: string): string {
    return `${prefix}-${++this.seq}`;
  }

  /** Builds and queues a v3 notification; injected faults are applied around the genuine delivery. */
  notifyV3(url: string, eventType: string, summary: string, originalType: string, aad: string, plaintext: () => Record<string, unknown>, label: string): void {
    if (!this.notificationsEnabled) return;
    const id = `EV-${v2Time(this.clock.now())}${digits(8)}`;
    const envelope = (tamper = false): string => {
      const nonce = nonceStr(12);
      let ciphertext = aeadEncrypt(JSON.stringify(plaintext()), this.merchant.apiV3Key, nonce, aad);
      if (tamper) {
        const raw = Buffer.from(ciphertext, 'base64');
        raw[raw.length - 1]! ^= 0x01; // flip one bit of the GCM tag
        ciphertext = raw.toString('base64');
      }
      return JSON.stringify({
        id,
        create_time: rfc3339(this.clock.now()),
        resource_type: 'encrypt-resource',
        event_type: eventType,
        summary,
        resource: { original_type: originalType, algorithm: 'AEAD_AES_256_GCM', ciphertext, associated_data: aad, nonce },
      });
    };
    const delivery = (opts: { tamper?: boolean; stale?: boolean; badSignature?: boolean; signtest?: boolean; unknownSerial?: boolean } = {}): Delivery => {
      const body = envelope(opts.tamper);
      const signer = this.platformSigner(undefined, true);
      const headers = this.signHeaders(body, signer, opts);
      if (opts.unknownSerial) headers['Wechatpay-Serial'] = 'PUB_KEY_ID_0000000000000000000000000000';
      return { url, body, headers: { ...headers, 'Content-Type': 'application/json', 'User-Agent': 'Mozilla/4.0' } };
    };
    this.dispatch({ id: this.jobId('v3'), kind: 'v3', build: () => delivery(), label }, delivery);
  }

  /**
   * A v2 trade result, signed with the request's sign type. Only the fields of WeChat's notification
   * pages, because SDKs verify over the fields they model (WxJava's WxWithholdNotifyResult and
   * WxPayOrderNotifyResult sign-check their bean's fields, so one extra field fails them):
   *  - a deduction (扣款结果通知): trade_state and contract_id, no sign_type, trade_type or trade_state_desc;
   *  - a pay-and-sign payment (支付结果通知): trade_type and sign_type (absent = MD5), no trade_state.
   */
  notifyV2Payment(o: EmuOrder): void {
    if (!this.notificationsEnabled) return;
    const signType = o.signType ?? 'MD5';
    const paid = o.state === 'SUCCESS' || o.state === 'REFUND';
    const fields = (): Record<string, string | number | undefined> => ({
      return_code: 'SUCCESS',
      result_code: paid ? 'SUCCESS' : 'FAIL',
      ...(o.errCode ? { err_code: o.errCode, err_code_des: o.stateDesc } : {}),
      appid: o.appid,
      mch_id: this.merchant.mchid,
      nonce_str: nonceStr(32),
      openid: o.openid,
      is_subscribe: 'N',
      bank_type: paid ? 'OTHERS' : undefined,
      total_fee: o.total,
      fee_type: 'CNY',
      cash_fee: paid ? o.total : undefined,
      transaction_id: o.transactionId,
      out_trade_no: o.outTradeNo,
      attach: o.attach,
      time_end: o.successAt ? v2Time(o.successAt) : undefined,
      ...(o.tradeType === 'PAP' ? { trade_state: o.state, contract_id: o.contractId } : { trade_type: o.tradeType, ...(signType === 'HMAC-SHA256' ? { sign_type: signType } : {}) }),
    });
    const delivery = (opts: { badSignature?: boolean } = {}): Delivery => {
      const f = fields();
      const body = opts.badSignature ? buildV2Xml({ ...f, sign: v2Sign(f, 'x'.repeat(32), signType) }) : this.v2Signed(f, signType);
      return { url: o.notifyUrl, body, headers: { 'Content-Type': 'text/xml' } };
    };
    this.dispatch({ id: this.jobId('v2pay'), kind: 'v2', build: () => delivery(), label: `deduction ${o.outTradeNo}` }, delivery);
  }

  /** The merchant portal: sets (a string) or clears (null) the template's notification URLs. */
  configureTemplate(urls: { signNotifyUrl?: string | null; terminationNotifyUrl?: string | null }): PapayTemplate {
    for (const k of ['signNotifyUrl', 'terminationNotifyUrl'] as const) {
      const v = urls[k];
      if (v === null) delete this.papayTemplate[k];
      else if (typeof v === 'string') this.papayTemplate[k] = v;
    }
    return { ...this.papayTemplate };
  }

  notifyContract(c: EmuContract, change: 'ADD' | 'DELETE'): void {
    if (!this.notificationsEnabled) return;
    // Signing results go where the signing request said; terminations to the template's termination URL.
    const url = change === 'ADD' ? c.notifyUrl || this.papayTemplate.signNotifyUrl : this.papayTemplate.terminationNotifyUrl;
    if (!url) return;
    const fields = (): Record<string, string | number | undefined> => ({
      return_code: 'SUCCESS',
      result_code: 'SUCCESS',
      mch_id: this.merchant.mchid,
      contract_code: c.contractCode,
      plan_id: c.planId,
      openid: c.openid,
      change_type: change,
      operate_time: v2Time(change === 'ADD' ? c.signedAt : (c.terminatedAt ?? this.clock.now())),
      contract_id: c.contractId,
      contract_expired_time: v2Time(c.expiresAt),
      request_serial: c.requestSerial,
      ...(change === 'DELETE' ? { contract_termination_mode: c.terminationMode } : {}),
    });
    // No sign_type field in a contract notification: it is signed with the contract's signing type (inferred).
    const delivery = (opts: { badSignature?: boolean } = {}): Delivery => {
      const f = fields();
      const body = opts.badSignature ? buildV2Xml({ ...f, sign: v2Sign(f, 'x'.repeat(32), c.signType) }) : this.v2Signed(f, c.signType);
      return { url, body, headers: { 'Content-Type': 'text/xml' } };
    };
    this.dispatch({ id: this.jobId(`contract-${change}`), kind: 'v2', build: () => delivery(), label: `contract ${change} ${c.contractCode}` }, delivery);
  }

  /** Applies the next queued notification fault, then hands the genuine job to the notifier. */
  private dispatch(job: NotificationJob, variant: (opts: { tamper?: boolean; stale?: boolean; badSignature?: boolean; signtest?: boolean }) => Delivery): void {
    const fault = this.notificationFaults.shift();
    const release = (): void => {
      this.notifier.enqueue(job);
      for (const h of this.heldForReorder.splice(0)) h();
    };
    switch (fault) {
      case undefined:
        return release();
      case 'duplicate':
        release();
        void this.notifier.sendOnce(job, 'duplicate');
        return;
      case 'reorder':
        // Held back until the next notification has been queued: they arrive in the opposite order.
        this.heldForReorder.push(() => this.clock.schedule(50, () => this.notifier.enqueue(job)));
        return;
      case 'drop':
        // The first delivery is lost; WeChat retries on its schedule.
        this.notifier.enqueue(job, this.scaled(15_000));
        return;
      case 'signtest':
        void this.notifier.sendOnce(job, 'signtest', variant({ signtest: true })).then(release);
        return;
      case 'wrong_signature':
        void this.notifier.sendOnce(job, 'wrong_signature', variant({ badSignature: true })).then(release);
        return;
      case 'stale_timestamp':
        void this.notifier.sendOnce(job, 'stale_timestamp', variant({ stale: true })).then(release);
        return;
      case 'tampered_tag':
        void this.notifier.sendOnce(job, 'tampered_tag', variant({ tamper: true })).then(release);
        return;
    }
  }

  /**
   * Sends a forged notification that no payment backs (the attacker's view): a TRANSACTION.SUCCESS for
   * an unpaid order, signed wrongly, stale, with a tampered tag, an unknown serial, or as a SIGNTEST probe.
   * Resolves to whether the merchant accepted it.
   */
  async forgeV3Success(url: string, outTradeNo: string, how: 'wrong_signature' | 'stale_timestamp' | 'tampered_tag' | 'unknown_serial' | 'signtest'): Promise<boolean> {
    const o = this.orders.get(outTradeNo);
    const fake = { ...(o ? this.transactionJson(o) : { out_trade_no: outTradeNo, mchid: this.merchant.mchid, appid: this.merchant.appid }), trade_state: 'SUCCESS', trade_state_desc: '支付成功', transaction_id: this.newTransactionId(), success_time: rfc3339(this.clock.now()) };
    const nonce = nonceStr(12);
    let ciphertext = aeadEncrypt(JSON.stringify(fake), this.merchant.apiV3Key, nonce, TRANSACTION_AAD);
    if (how === 'tampered_tag') {
      const raw = Buffer.from(ciphertext, 'base64');
      raw[raw.length - 1]! ^= 0x01;
      ciphertext = raw.toString('base64');
    }
    const body = JSON.stringify({ id: `EV-${digits(12)}`, create_time: rfc3339(this.clock.now()), resource_type: 'encrypt-resource', event_type: 'TRANSACTION.SUCCESS', summary: '支付成功', resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext, associated_data: TRANSACTION_AAD, nonce } });
    const headers = this.signHeaders(body, this.platformSigner(undefined, true), { badSignature: how === 'wrong_signature', stale: how === 'stale_timestamp', signtest: how === 'signtest' });
    if (how === 'unknown_serial') headers['Wechatpay-Serial'] = 'PUB_KEY_ID_0000000000000000000000000000';
    return this.notifier.sendOnce({ id: this.jobId('forged'), kind: 'v3', build: () => ({ url, body, headers }), label: `forged ${how}` }, how === 'unknown_serial' ? 'unknown_serial' : how, { url, body, headers: { ...headers, 'Content-Type': 'application/json' } });
  }

  /** Forges a v2 deduction-success XML with a wrong sign for an order that is not paid. */
  async forgeV2DeductionSuccess(url: string, outTradeNo: string): Promise<boolean> {
    const o = this.orders.get(outTradeNo);
    const f = { return_code: 'SUCCESS', result_code: 'SUCCESS', nonce_str: nonceStr(32), ...(o ? this.v2OrderFields(o) : { out_trade_no: outTradeNo }), trade_state: 'SUCCESS', transaction_id: this.newTransactionId() };
    const body = buildV2Xml({ ...f, sign: v2Sign(f, 'y'.repeat(32)) });
    return this.notifier.sendOnce({ id: this.jobId('forged'), kind: 'v2', build: () => ({ url, body, headers: {} }), label: 'forged v2' }, 'wrong_signature', { url, body, headers: { 'Content-Type': 'text/xml' } });
  }

  /** Re-sends the last genuine delivery byte for byte (a replay). */
  async replayLast(): Promise<boolean | undefined> {
    const d = this.notifier.lastGenuine;
    if (!d) return undefined;
    return this.notifier.sendOnce({ id: this.jobId('replay'), kind: 'v3', build: () => d, label: 'replay' }, 'replay', d);
  }

  // ---- bills -----------------------------------------------------------------------------------------

  /** The trade bill of one day (+08:00) in WeChat's CSV layout: back-quoted fields, yuan amounts, a summary. */
  tradeBillCsv(billDate: string): string {
    const yuan = (fen: number): string => (fen / 100).toFixed(2);
    const q = (v: string | number): string => `\`${v}`;
    const head = '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
    const rows: string[] = [];
    const day = (ms: number): string => rfc3339(ms).slice(0, 10);
    const time = (ms: number): string => rfc3339(ms).slice(0, 19).replace('T', ' ');
    let count = 0;
    let settle = 0;
    let refundSum = 0;
    let fee = 0;
    for (const o of this.orders.values()) {
      if (!o.successAt || day(o.successAt) !== billDate) continue;
      const f = Math.round(o.total * 0.006);
      count++;
      settle += o.total;
      fee += f;
      rows.push([time(o.successAt), o.appid, this.merchant.mchid, '0', '', o.transactionId!, o.outTradeNo, o.openid, o.tradeType, 'SUCCESS', 'OTHERS', 'CNY', yuan(o.total), '0.00', '0', '0', '0.00', '0.00', '', '', o.description, o.attach ?? '', yuan(f), '0.60%', yuan(o.total), '0.00', ''].map(q).join(','));
    }
    for (const r of this.refunds.values()) {
      if (!r.successAt || day(r.successAt) !== billDate) continue;
      const o = this.orders.get(r.outTradeNo)!;
      refundSum += r.refund;
      rows.push([time(r.successAt), o.appid, this.merchant.mchid, '0', '', r.transactionId, r.outTradeNo, o.openid, o.tradeType, 'REFUND', 'OTHERS', 'CNY', '0.00', '0.00', r.refundId, r.outRefundNo, yuan(r.refund), '0.00', 'ORIGINAL', 'SUCCESS', o.description, o.attach ?? '', '0.00', '0.60%', '0.00', yuan(r.refund), ''].map(q).join(','));
    }
    const summaryHead = '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';
    const summary = [count, yuan(settle), yuan(refundSum), '0.00', yuan(fee), yuan(settle), yuan(refundSum)].map(q).join(',');
    return [head, ...rows, summaryHead, summary].join('\r\n') + '\r\n';
  }

  newRequestId(code = 0): string {
    return `${randomUUID().replace(/-/g, '').toUpperCase()}-${code}`;
  }

  close(): void {
    this.notifier.close();
  }
}
