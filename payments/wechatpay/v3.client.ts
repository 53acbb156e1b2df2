import { constants, createHash, createPrivateKey, publicEncrypt, type KeyObject } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import Pay from 'wechatpay-node-v3';
import { systemClock, type Clock } from '../../common/clock';
import { aeadDecrypt, nonceStr, requestSigningString, rsaSign, rsaVerify, responseSigningString } from './crypto';
import { header, PlatformKeyRing, verifyWechatpaySignature } from './verifier';
import type { WechatConfig } from './wechat.config';

/**
 * The WeChat Pay v3 client: the only code that sends v3 requests. wechatpay-node-v3 builds the requests
 * (JSAPI prepay and its wx.requestPayment parameters, query, close, refunds, bills) and its Authorization
 * header; this module supplies the transport (`createHttp`) and guards the library's defects:
 *  - bodiless POST/DELETE are signed with the spec's final empty line (the library drops it → 401);
 *  - every response is verified (the library verifies none): signature by Wechatpay-Serial in public-key
 *    and platform-certificate modes, ±5 min, SIGNTEST rejected; an unsigned 2xx is treated as forged;
 *  - callback decryption checks the GCM tag (the library's decipher_gcm never does), see notifications.ts;
 *  - errors become typed failures instead of `{status, error: text}`;
 *  - the base URL comes from configuration (the library hard-codes api.mch.weixin.qq.com).
 */

export const WECHAT_PAY_HOST = 'https://api.mch.weixin.qq.com';

/** Largest decompressed trade bill accepted (a day of a busy merchant is a few MB). */
const BILL_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Why a call did not produce a value. `rejected`: WeChat answered and nothing happened. `unknown`: the
 * request may or may not have taken effect (timeout, network, 5xx, unverifiable answer) — resolve it by a
 * query before trying anything else.
 */
export interface WxFailure {
  outcome: 'rejected' | 'unknown';
  /** HTTP status, absent when no answer arrived. */
  httpStatus?: number;
  /** WeChat's code (ORDER_NOT_EXIST, SIGN_ERROR, …) or a local one: TIMEOUT, NETWORK, RESPONSE_SIGNATURE, BAD_RESPONSE. */
  code: string;
  message: string;
  /** Whether repeating the same request can help. */
  retryable: boolean;
  requestId?: string;
}
export type WxResult<T> = { ok: true; value: T } | { ok: false; failure: WxFailure };

export const wxOk = <T>(value: T): WxResult<T> => ({ ok: true, value });
export const wxFail = <T>(failure: WxFailure): WxResult<T> => ({ ok: false, failure });

/** wx.requestPayment parameters, exactly as the mini-program passes them. */
export interface RequestPaymentParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export type TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';

/** The Transaction object of query and TRANSACTION.SUCCESS (absent fields omitted). */
export interface Transaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  transaction_id?: string;
  trade_type?: string;
  trade_state: TradeState;
  trade_state_desc: string;
  bank_type?: string;
  attach?: string;
  success_time?: string;
  payer?: { openid: string };
  amount?: { total: number; payer_total?: number; currency?: string; payer_currency?: string };
}

export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';
export interface Refund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  status: RefundStatus;
  success_time?: string;
  create_time: string;
  amount: { total: number; refund: number; payer_total?: number; payer_refund?: number; currency?: string };
}

export interface JsapiPrepayInput {
  outTradeNo: string;
  description: string;
  amountFen: number;
  openid: string;
  /** RFC3339; kept identical across retries so a re-entry is accepted as the same order. */
  timeExpire?: string;
  /** Echoed back by WeChat; we put the orderId here. */
  attach?: string;
  notifyUrl: string;
}

interface LibOutput {
  status: number;
  data?: unknown;
  error?: WxFailure;
}

type Verify = 'signature' | 'none' | { deferred: (rawBody: string, headers: Headers) => boolean };

/** wechatpay-node-v3 with its signing fixed and its clock injectable. */
class SigningPay extends Pay {
  constructor(
    cfg: WechatConfig,
    private readonly clock: Clock,
  ) {
    super({
      appid: cfg.appid,
      mchid: cfg.mchid,
      serial_no: cfg.merchantSerial,
      // The library insists on the merchant certificate only to derive serial_no, which we pass explicitly.
      publicKey: Buffer.from(cfg.merchantCert ?? 'merchant certificate not configured; serial_no is given'),
      privateKey: Buffer.from(cfg.merchantPrivateKey),
      key: cfg.apiV3Key,
      userAgent: 'cabinet-fleet/0.1 (wechatpay-node-v3)',
    });
  }

  /** The spec's five lines; the library omits the empty body line for a bodiless POST/DELETE. */
  override getSignature(method: string, nonce: string, timestamp: string, url: string, body?: string | Record<string, unknown>): string {
    const text = body === undefined || body === null ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return this.sha256WithRsa(requestSigningString(method, url, timestamp, nonce, text));
  }

  /** Same as the library's, with a cryptographic nonce, the injected clock and any origin stripped. */
  protected override buildAuthorization(method: string, url: string, params?: Record<string, unknown>): string {
    const nonce = nonceStr(32);
    const timestamp = String(Math.floor(this.clock.now() / 1000));
    return this.getAuthorization(nonce, timestamp, this.getSignature(method, nonce, timestamp, pathOf(url), params));
  }

  authorize(method: string, pathAndQuery: string, body?: string): string {
    return this.buildAuthorization(method, pathAndQuery, body as never);
  }
}

/** `https://host/path?q` → `/path?q`; a bare path is returned as is. */
export function pathOf(url: string): string {
  if (url.startsWith('/')) return url;
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

export interface WechatPayV3ClientOptions {
  config: WechatConfig;
  clock?: Clock;
  /** Platform keys; by default built from the config's public key (certificates are added by loadPlatformCertificates). */
  keys?: PlatformKeyRing;
}

export class WechatPayV3Client {
  readonly keys: PlatformKeyRing;
  private readonly lib: SigningPay;
  private readonly clock: Clock;
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly merchantKey: KeyObject;

  constructor(private readonly opts: WechatPayV3ClientOptions) {
    const cfg = opts.config;
    this.clock = opts.clock ?? systemClock;
    this.base = cfg.payBaseUrl;
    this.timeoutMs = cfg.requestTimeoutMs;
    this.merchantKey = createPrivateKey(cfg.merchantPrivateKey);
    this.keys = opts.keys ?? new PlatformKeyRing();
    if (cfg.platformPublicKeyId && cfg.platformPublicKey) this.keys.addPublicKey(cfg.platformPublicKeyId, cfg.platformPublicKey);
    this.lib = new SigningPay(cfg, this.clock);
    this.lib.createHttp({
      post: (url: string, params: Record<string, unknown>, headers: Record<string, string>) => this.send('POST', url, JSON.stringify(params), headers, 'signature'),
      get: (url: string, headers: Record<string, string>) => this.send('GET', url, undefined, headers, 'signature'),
      upload: () => Promise.resolve({ status: 0, error: local('rejected', 'UNSUPPORTED', 'upload is not used', false) }),
    });
  }

  get appid(): string {
    return this.opts.config.appid;
  }

  /** POST /v3/pay/transactions/jsapi and the signed wx.requestPayment parameters. */
  async jsapiPrepay(input: JsapiPrepayInput): Promise<WxResult<{ prepayId: string; requestPayment: RequestPaymentParams }>> {
    const params = {
      description: input.description,
      out_trade_no: input.outTradeNo,
      ...(input.timeExpire ? { time_expire: input.timeExpire } : {}),
      ...(input.attach ? { attach: input.attach } : {}),
      notify_url: input.notifyUrl,
      amount: { total: input.amountFen, currency: 'CNY' },
      payer: { openid: input.openid },
    };
    const out = (await this.lib.transactions_jsapi(params as Parameters<Pay['transactions_jsapi']>[0])) as LibOutput;
    if (out.error) return wxFail(out.error);
    const data = out.data as Partial<RequestPaymentParams> | undefined;
    const prepayId = data?.package?.startsWith('prepay_id=') ? data.package.slice('prepay_id='.length) : undefined;
    if (!prepayId || !data?.paySign || !data.timeStamp || !data.nonceStr) return wxFail(local('unknown', 'BAD_RESPONSE', 'prepay answer without prepay_id', true));
    return wxOk({ prepayId, requestPayment: { appId: this.appid, timeStamp: data.timeStamp, nonceStr: data.nonceStr, package: data.package!, signType: 'RSA', paySign: data.paySign } });
  }

  /** Fresh wx.requestPayment parameters for a prepay_id already held. */
  requestPaymentFor(prepayId: string): RequestPaymentParams {
    const timeStamp = String(Math.floor(this.clock.now() / 1000));
    const nonce = nonceStr(32);
    const pkg = `prepay_id=${prepayId}`;
    return { appId: this.appid, timeStamp, nonceStr: nonce, package: pkg, signType: 'RSA', paySign: rsaSign(`${this.appid}\n${timeStamp}\n${nonce}\n${pkg}\n`, this.merchantKey) };
  }

  async queryByOutTradeNo(outTradeNo: string): Promise<WxResult<Transaction>> {
    return this.lift<Transaction>(await this.lib.query({ out_trade_no: outTradeNo }), (d) => typeof (d as Transaction)?.trade_state === 'string');
  }

  async queryByTransactionId(transactionId: string): Promise<WxResult<Transaction>> {
    return this.lift<Transaction>(await this.lib.query({ transaction_id: transactionId }), (d) => typeof (d as Transaction)?.trade_state === 'string');
  }

  /** 204 on success, also for an order already closed or unknown; ORDER_PAID when it was paid meanwhile. */
  async close(outTradeNo: string): Promise<WxResult<void>> {
    const out = (await this.lib.close(outTradeNo)) as LibOutput;
    return out.error ? wxFail(out.error) : wxOk(undefined);
  }

  async refund(input: { outRefundNo: string; outTradeNo: string; refundFen: number; totalFen: number; reason?: string; notifyUrl?: string }): Promise<WxResult<Refund>> {
    const body = {
      out_trade_no: input.outTradeNo,
      out_refund_no: input.outRefundNo,
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.notifyUrl ? { notify_url: input.notifyUrl } : {}),
      amount: { refund: input.refundFen, total: input.totalFen, currency: 'CNY' },
    };
    return this.lift<Refund>(await this.lib.refunds(body as Parameters<Pay['refunds']>[0]), (d) => typeof (d as Refund)?.status === 'string');
  }

  /**
   * Refund again a refund WeChat reports ABNORMAL (the shopper's card was closed): to the merchant's bank
   * account (the merchant then pays the shopper another way), or to a bank card of the shopper, whose
   * account number and name go RSA-OAEP encrypted with WeChat Pay's key (the Wechatpay-Serial sent).
   * Answered with the refund, PROCESSING again; the result comes as REFUND.SUCCESS / ABNORMAL.
   */
  async applyAbnormalRefund(outRefundNo: string, to: { type: 'MERCHANT_BANK_CARD' } | { type: 'USER_BANK_CARD'; bankType: string; bankAccount: string; realName: string }): Promise<WxResult<Refund>> {
    let body: Record<string, string> = { out_refund_no: outRefundNo, type: to.type };
    if (to.type === 'USER_BANK_CARD') {
      const serial = this.keys.preferredSerial();
      const key = serial ? this.keys.get(serial, this.clock.now()) : undefined;
      if (!key) return wxFail(local('rejected', 'NO_PLATFORM_KEY', 'no WeChat Pay key to encrypt the bank account with', false));
      const seal = (v: string): string => publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(v, 'utf8')).toString('base64');
      body = { ...body, bank_type: to.bankType, bank_account: seal(to.bankAccount), real_name: seal(to.realName) };
    }
    const r = await this.request('POST', `/v3/refund/domestic/refunds/${encodeURIComponent(outRefundNo)}/apply-abnormal-refund`, JSON.stringify(body));
    if (!r.ok) return r;
    return typeof (r.value.data as Refund | undefined)?.status === 'string' ? wxOk(r.value.data as Refund) : wxFail(local('unknown', 'BAD_RESPONSE', 'answer does not have the documented shape', true));
  }

  async queryRefund(outRefundNo: string): Promise<WxResult<Refund>> {
    return this.lift<Refund>(await this.lib.find_refunds(outRefundNo), (d) => typeof (d as Refund)?.status === 'string');
  }

  /**
   * Trade bill of one day (`YYYY-MM-DD`): asks for it (gzip-compressed by default, as WeChat recommends for
   * large bills), downloads it, decompresses it and checks its SHA1, which WeChat computes over the bill
   * itself. Returns the CSV text.
   */
  async tradeBill(billDate: string, tarType: 'GZIP' | 'NONE' = 'GZIP'): Promise<WxResult<string>> {
    const meta = this.lift<{ download_url: string; hash_type: string; hash_value: string }>(
      (await this.lib.tradebill({ bill_date: billDate, bill_type: 'ALL', ...(tarType === 'GZIP' ? { tar_type: 'GZIP' } : {}) } as Parameters<Pay['tradebill']>[0])) as LibOutput,
      (d) => typeof (d as { download_url?: unknown })?.download_url === 'string',
    );
    if (!meta.ok) return meta;
    // The download itself is not signed by WeChat; its integrity is the hash announced in the signed answer.
    const file = await this.request('GET', pathOf(meta.value.download_url), undefined, 'none');
    if (!file.ok) return file;
    let text: string;
    try {
      text = (tarType === 'GZIP' ? gunzipSync(file.value.bytes, { maxOutputLength: BILL_MAX_BYTES }) : file.value.bytes).toString('utf8');
    } catch {
      return wxFail(local('unknown', 'BAD_RESPONSE', 'bill is not a gzip file', true));
    }
    const sha1 = createHash('sha1').update(text, 'utf8').digest('hex');
    if (meta.value.hash_type.toUpperCase() === 'SHA1' && sha1.toLowerCase() !== meta.value.hash_value.toLowerCase()) return wxFail(local('unknown', 'BAD_RESPONSE', 'bill hash mismatch', true));
    return wxOk(text);
  }

  /** Downloads platform certificates (certificate mode), decrypting each with the tag checked, and adds them. */
  async loadPlatformCertificates(): Promise<WxResult<string[]>> {
    const apiV3Key = this.opts.config.apiV3Key;
    const found: Array<{ serial: string; pem: string }> = [];
    const res = await this.request('GET', '/v3/certificates', undefined, {
      deferred: (raw, headers) => {
        let body: { data?: Array<{ serial_no: string; encrypt_certificate: { ciphertext: string; nonce: string; associated_data: string } }> };
        try {
          body = JSON.parse(raw) as typeof body;
        } catch {
          return false;
        }
        for (const c of body.data ?? []) {
          const plain = aeadDecrypt(c.encrypt_certificate.ciphertext, apiV3Key, c.encrypt_certificate.nonce, c.encrypt_certificate.associated_data);
          if (!plain.ok) return false;
          found.push({ serial: c.serial_no, pem: plain.plaintext });
        }
        // The answer must be signed by one of the certificates it carries (or a key we already trust).
        const ring = new PlatformKeyRing();
        for (const f of found) ring.addCertificate(f.pem);
        const serial = header(headers, 'wechatpay-serial') ?? '';
        const check = verifyWechatpaySignature(headers, raw, ring, this.clock.now());
        if (check.ok) return true;
        const known = this.keys.get(serial, this.clock.now());
        return !!known && rsaVerify(responseSigningString(header(headers, 'wechatpay-timestamp') ?? '', header(headers, 'wechatpay-nonce') ?? '', raw), header(headers, 'wechatpay-signature') ?? '', known);
      },
    });
    if (!res.ok) return res;
    for (const f of found) this.keys.addCertificate(f.pem);
    return wxOk(found.map((f) => f.serial));
  }

  /**
   * A signed request to any v3 path (the library has no generic one). The body, when given, is sent and
   * signed as exactly this string; a bodiless call signs an empty body line.
   */
  async request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', pathAndQuery: string, body?: string, verify: Verify = 'signature'): Promise<WxResult<{ status: number; raw: string; bytes: Buffer; data: unknown }>> {
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: this.lib.authorize(method, pathAndQuery, body) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const out = await this.send(method, pathAndQuery, body, headers, verify, true);
    if (out.error) return wxFail(out.error);
    const r = out.data as { status: number; raw: string; bytes: Buffer; data: unknown };
    return wxOk(r);
  }

  private lift<T>(out: LibOutput, valid: (d: unknown) => boolean): WxResult<T> {
    if (out.error) return wxFail(out.error);
    if (!valid(out.data)) return wxFail(local('unknown', 'BAD_RESPONSE', 'answer does not have the documented shape', true));
    return wxOk(out.data as T);
  }

  /** The transport behind the library: fetch with a timeout, raw body kept, every answer verified. */
  private async send(method: string, url: string, body: string | undefined, headers: Record<string, string>, verify: Verify, raw = false): Promise<LibOutput> {
    const target = `${this.base}${pathOf(url.startsWith(WECHAT_PAY_HOST) ? url.slice(WECHAT_PAY_HOST.length) || '/' : url)}`;
    const serial = this.keys.preferredSerial();
    const h: Record<string, string> = { ...headers, 'User-Agent': 'cabinet-fleet/0.1 (wechatpay-node-v3)' };
    delete h['Accept-Encoding'];
    if (serial) h['Wechatpay-Serial'] = serial;
    let res: Response;
    let bytes: Buffer;
    let text: string;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.timeoutMs);
    try {
      res = await fetch(target, { method, headers: h, body, signal: ac.signal });
      bytes = Buffer.from(await res.arrayBuffer());
      text = bytes.toString('utf8');
    } catch (e) {
      const timedOut = ac.signal.aborted;
      return { status: 0, error: local('unknown', timedOut ? 'TIMEOUT' : 'NETWORK', timedOut ? `no answer within ${this.timeoutMs} ms` : String((e as Error).message ?? e), true) };
    } finally {
      clearTimeout(timer);
    }
    const requestId = res.headers.get('request-id') ?? undefined;
    let signed: boolean;
    if (verify === 'none') signed = true;
    else if (verify === 'signature') signed = verifyWechatpaySignature(res.headers, text, this.keys, this.clock.now()).ok;
    else signed = verify.deferred(text, res.headers);
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = raw ? undefined : text;
    }
    if (!signed) {
      // An unsigned or badly signed answer is forged or corrupted: we cannot tell what happened.
      return { status: 0, error: { ...local('unknown', 'RESPONSE_SIGNATURE', `answer ${res.status} failed signature verification`, true), httpStatus: res.status, requestId } };
    }
    if (res.status >= 200 && res.status < 300) return { status: res.status, data: raw ? { status: res.status, raw: text, bytes, data } : data };
    const err = (data && typeof data === 'object' ? data : {}) as { code?: string; message?: string };
    const failure: WxFailure = {
      outcome: res.status >= 500 ? 'unknown' : 'rejected',
      httpStatus: res.status,
      code: err.code ?? `HTTP_${res.status}`,
      message: err.message ?? text.slice(0, 200),
      retryable: res.status >= 500 || res.status === 429,
      ...(requestId ? { requestId } : {}),
    };
    return { status: res.status, error: failure };
  }
}

function local(outcome: WxFailure['outcome'], code: string, message: string, retryable: boolean): WxFailure {
  return { outcome, code, message, retryable };
}
