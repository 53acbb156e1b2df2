import Fastify, { type FastifyInstance } from 'fastify';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/log';
import { aeadDecrypt, buildV2Xml, parseV2Xml, v2Verify } from './crypto';
import { notificationSignType, papayOrderFrom, type PapayOrder } from './papay.client';
import type { Transaction } from './v3.client';
import { PlatformKeyRing, verifyWechatpaySignature, type SignatureFailure } from './verifier';
import { NOTIFY_PATHS, type WechatConfig } from './wechat.config';

/**
 * WeChat's notifications, verified and decoded into typed events. Nothing here changes state: the
 * endpoints verify, hand the event to a sink that persists it (and hands it to the payment actor), and
 * only then answer 200 — within WeChat's 5 s, or a failure so that WeChat retries.
 */

export interface RefundNotice {
  out_refund_no: string;
  out_trade_no: string;
  refund_id: string;
  transaction_id: string;
  refund_status: 'SUCCESS' | 'CLOSED' | 'ABNORMAL' | 'PROCESSING';
  success_time?: string;
  amount: { total: number; refund: number };
}

export type InboundNotification =
  | { type: 'TransactionNotified'; eventId: string; transaction: Transaction }
  | { type: 'RefundNotified'; eventId: string; refund: RefundNotice }
  /** v2 trade result: a deduction (PAP) or a pay-and-sign JSAPI payment. */
  | { type: 'TradeResultNotified'; order: PapayOrder; resultCode: 'SUCCESS' | 'FAIL' }
  | { type: 'ContractChanged'; change: 'ADD' | 'DELETE'; contractCode: string; contractId: string; openid: string; planId: string; operateTime: string; terminationMode?: string };

export type NotificationRejection = SignatureFailure | 'tag_mismatch' | 'malformed' | 'wrong_merchant' | 'bad_sign';

export function decodeV3Notification(headers: Record<string, string | string[] | undefined>, rawBody: string, keys: PlatformKeyRing, apiV3Key: string, nowMs: number): { ok: true; event: InboundNotification } | { ok: false; reason: NotificationRejection } {
  const sig = verifyWechatpaySignature(headers, rawBody, keys, nowMs);
  if (!sig.ok) return { ok: false, reason: sig.reason };
  let env: { id?: unknown; event_type?: unknown; resource?: { ciphertext?: unknown; nonce?: unknown; associated_data?: unknown; algorithm?: unknown } };
  try {
    env = JSON.parse(rawBody) as typeof env;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const r = env.resource;
  if (typeof env.id !== 'string' || typeof env.event_type !== 'string' || !r || typeof r.ciphertext !== 'string' || typeof r.nonce !== 'string' || r.algorithm !== 'AEAD_AES_256_GCM') return { ok: false, reason: 'malformed' };
  // associated_data may be "transaction", "refund" or empty: use whatever arrived.
  const plain = aeadDecrypt(r.ciphertext, apiV3Key, r.nonce, typeof r.associated_data === 'string' ? r.associated_data : '');
  if (!plain.ok) return { ok: false, reason: plain.reason };
  let resource: unknown;
  try {
    resource = JSON.parse(plain.plaintext);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (env.event_type.startsWith('TRANSACTION.')) {
    const t = resource as Transaction;
    if (typeof t?.out_trade_no !== 'string' || typeof t.trade_state !== 'string') return { ok: false, reason: 'malformed' };
    return { ok: true, event: { type: 'TransactionNotified', eventId: env.id, transaction: t } };
  }
  if (env.event_type.startsWith('REFUND.')) {
    const n = resource as RefundNotice;
    if (typeof n?.out_refund_no !== 'string' || typeof n.refund_status !== 'string') return { ok: false, reason: 'malformed' };
    return { ok: true, event: { type: 'RefundNotified', eventId: env.id, refund: n } };
  }
  return { ok: false, reason: 'malformed' };
}

export function decodeV2Notification(rawBody: string, cfg: Pick<WechatConfig, 'mchid' | 'apiV2Key'>, kind: 'papay' | 'contract'): { ok: true; event: InboundNotification } | { ok: false; reason: NotificationRejection } {
  const f = parseV2Xml(rawBody);
  if (!f) return { ok: false, reason: 'malformed' };
  if (f.mch_id !== cfg.mchid) return { ok: false, reason: 'wrong_merchant' };
  if (!v2Verify(f, cfg.apiV2Key, notificationSignType(f))) return { ok: false, reason: 'bad_sign' };
  if (kind === 'contract') {
    if ((f.change_type !== 'ADD' && f.change_type !== 'DELETE') || !f.contract_code || !f.contract_id || !f.openid) return { ok: false, reason: 'malformed' };
    return {
      ok: true,
      event: { type: 'ContractChanged', change: f.change_type, contractCode: f.contract_code, contractId: f.contract_id, openid: f.openid, planId: f.plan_id ?? '', operateTime: f.operate_time ?? '', ...(f.contract_termination_mode ? { terminationMode: f.contract_termination_mode } : {}) },
    };
  }
  if (!f.out_trade_no || (f.result_code !== 'SUCCESS' && f.result_code !== 'FAIL')) return { ok: false, reason: 'malformed' };
  return { ok: true, event: { type: 'TradeResultNotified', order: papayOrderFrom(f), resultCode: f.result_code } };
}

/** Where verified notifications go. `accept` resolves once the event is durably recorded. */
export interface NotificationSink {
  accept(event: InboundNotification): Promise<void>;
}

export interface NotificationDeps {
  config: WechatConfig;
  keys: PlatformKeyRing;
  clock: Clock;
  sink: NotificationSink;
  log: Logger;
  /** Answer deadline; WeChat counts anything slower than 5 s as a failure. */
  answerWithinMs?: number;
}

const V2_OK = buildV2Xml({ return_code: 'SUCCESS', return_msg: 'OK' });
const v2Fail = (msg: string): string => buildV2Xml({ return_code: 'FAIL', return_msg: msg });

/**
 * Fastify plugin with the three notification endpoints (NOTIFY_PATHS). Register it on the public app:
 * `await app.register(registerPaymentNotifications, deps)`. It parses every body as a raw string, in its
 * own encapsulated scope, so the signature is checked over the exact bytes.
 */
export async function registerPaymentNotifications(app: FastifyInstance, deps: NotificationDeps): Promise<void> {
  const within = deps.answerWithinMs ?? 4500;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));

  /** Records the event, or gives up before WeChat's deadline so that it retries. */
  const record = async (event: InboundNotification): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), within);
    });
    try {
      return await Promise.race([deps.sink.accept(event).then(() => true as const), deadline]);
    } catch (e) {
      deps.log.error({ err: String(e), type: event.type }, 'payment notification could not be recorded');
      return false;
    } finally {
      clearTimeout(timer);
    }
  };

  app.post(NOTIFY_PATHS.v3, async (req, reply) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const decoded = decodeV3Notification(req.headers, raw, deps.keys, deps.config.apiV3Key, deps.clock.now());
    if (!decoded.ok) {
      deps.log.warn({ reason: decoded.reason, serial: req.headers['wechatpay-serial'] }, 'rejected a v3 notification');
      return reply.code(decoded.reason === 'signature_probe' || decoded.reason === 'bad_signature' || decoded.reason === 'unknown_serial' ? 401 : 400).send({ code: 'FAIL', message: decoded.reason });
    }
    if (!(await record(decoded.event))) return reply.code(500).send({ code: 'FAIL', message: 'not recorded' });
    return reply.code(204).send();
  });

  for (const kind of ['papay', 'contract'] as const) {
    app.post(NOTIFY_PATHS[kind], async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const decoded = decodeV2Notification(raw, deps.config, kind);
      reply.type('text/xml');
      if (!decoded.ok) {
        deps.log.warn({ reason: decoded.reason, kind }, 'rejected a v2 notification');
        return reply.code(400).send(v2Fail(decoded.reason));
      }
      if (!(await record(decoded.event))) return reply.code(500).send(v2Fail('not recorded'));
      return reply.code(200).send(V2_OK);
    });
  }
}

/** A standalone server with only the notification endpoints (tests, benchmark, sandbox runs). */
export async function serveNotifications(deps: NotificationDeps, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(registerPaymentNotifications, deps);
  const url = await app.listen({ port, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}
