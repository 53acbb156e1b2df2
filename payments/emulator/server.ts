import { constants, createHash, privateDecrypt, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { systemClock, type Clock } from '../../common/clock';
import { aeadEncrypt, buildV2Xml, nonceStr, parseV2Xml, requestSigningString, rsaVerify, v2Verify, type V2SignType } from '../wechatpay/crypto';
import { requestSignType, type PapayApi } from '../wechatpay/papay.signing';
import { WechatEmulator, isRefundOutcome, rfc3339, samePlan, type ApiFault, type EmuOrder, type EmuRefund, type NotificationFault, type PlatformMode } from './emulator';
import { loadOrCreateSandboxMerchant, type SandboxMerchant } from './merchant';
import { validScene, wxacodePng } from './wxacode';

/**
 * The emulator's HTTP face: WeChat Pay v3 (JSON, signed both ways), papay v2 (XML), the mini-program
 * server APIs (api.weixin.qq.com paths), and `/__control/*`, which plays the shopper's WeChat client and
 * flips faults. One process serves all of it; clients are pointed here by base URL.
 */

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
    fault?: ApiFault;
    /** Set for a timeout_after fault: the work is done, the answer is withheld until this resolves. */
    withhold?: () => Promise<void>;
  }
}

const WINDOW_S = 300;
const OUT_TRADE_NO = /^[A-Za-z0-9_\-*|]{6,32}$/;

export interface StartEmulatorOptions {
  port?: number;
  host?: string;
  dataDir: string;
  timeScale?: number;
  clock?: Clock;
  platformMode?: PlatformMode;
}

export interface RunningEmulator {
  baseUrl: string;
  emulator: WechatEmulator;
  merchant: SandboxMerchant;
  dataDir: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startEmulator(opts: StartEmulatorOptions): Promise<RunningEmulator> {
  const keys = loadOrCreateSandboxMerchant(opts.dataDir);
  let baseUrl = '';
  const emulator = new WechatEmulator({ keys, clock: opts.clock ?? systemClock, timeScale: opts.timeScale ?? 1, platformMode: opts.platformMode ?? 'public_key', publicBaseUrl: () => baseUrl });
  const app = buildEmulatorApp(emulator);
  const address = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  baseUrl = address.replace('[::1]', '127.0.0.1');
  return {
    baseUrl,
    emulator,
    merchant: keys.merchant,
    dataDir: opts.dataDir,
    app,
    async close() {
      emulator.close();
      await app.close();
    },
  };
}

/** `onRoute` sees every route as it is added (the README test checks each is documented). */
export function buildEmulatorApp(emu: WechatEmulator, onRoute?: (method: string, url: string) => void): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 1 << 20 });
  if (onRoute) app.addHook('onRoute', (r) => void [r.method].flat().filter((m) => m !== 'HEAD').forEach((m) => onRoute(m, r.url)));
  const m = emu.merchant;
  const hangs = new Set<() => void>();
  app.addHook('onClose', async () => {
    for (const h of hangs) h();
  });
  const hang = (ms = 60_000): Promise<void> =>
    new Promise((resolve) => {
      const cancel = emu.clock.schedule(ms, done);
      function done(): void {
        cancel();
        hangs.delete(done);
        resolve();
      }
      hangs.add(done);
    });

  // Raw bodies everywhere: signatures are over the exact bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
    req.rawBody = body as string;
    done(null, body);
  });

  // ---- v3 ---------------------------------------------------------------------------------------------

  const v3 = async (req: FastifyRequest, reply: FastifyReply, route: string, handler: (body: Record<string, unknown>) => Promise<void> | void): Promise<FastifyReply | void> => {
    const auth = checkV3Auth(emu, req);
    if (!auth.ok) return void sendV3(emu, req, reply, auth.status, auth.body);
    const fault = emu.takeApiFault(route);
    if (fault?.kind === 'status') return void sendV3(emu, req, reply, fault.status, fault.status === 429 ? { code: 'FREQUENCY_LIMITED', message: '频率超限' } : { code: 'SYSTEM_ERROR', message: '系统错误' });
    if (fault?.kind === 'timeout_before') {
      await hang();
      return void reply.code(504).send('');
    }
    req.fault = fault;
    if (fault?.kind === 'timeout_after') req.withhold = hang;
    let body: Record<string, unknown> = {};
    if (req.rawBody) {
      try {
        body = JSON.parse(req.rawBody) as Record<string, unknown>;
      } catch {
        return void sendV3(emu, req, reply, 400, { code: 'PARAM_ERROR', message: '请求体不是合法的JSON' });
      }
    }
    if (typeof body.mchid === 'string' && body.mchid !== auth.mchid) return void sendV3(emu, req, reply, 400, { code: 'PARAM_ERROR', message: 'mchid与请求头中的mchid不一致' });
    await handler(body);
    // Returning the reply tells fastify the answer may still come later (a withheld timeout_after answer).
    return reply;
  };
  const send = (req: FastifyRequest, reply: FastifyReply, status: number, body?: unknown): void => sendV3(emu, req, reply, status, body);

  app.post('/v3/pay/transactions/jsapi', (req, reply) =>
    v3(req, reply, 'jsapi', (b) => {
      const amount = b.amount as { total?: unknown; currency?: unknown } | undefined;
      const payer = b.payer as { openid?: unknown } | undefined;
      const missing = ['appid', 'mchid', 'description', 'out_trade_no', 'notify_url'].find((k) => typeof b[k] !== 'string' || !b[k]);
      if (missing) return send(req, reply, 400, { code: 'PARAM_ERROR', message: `输入源"/body/${missing}"映射到值字段"${missing}"必填性规则校验失败` });
      if (!amount || !Number.isInteger(amount.total) || (amount.total as number) < 1) return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'amount.total 最小值为1' });
      if (amount.currency !== undefined && amount.currency !== 'CNY') return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'currency 仅支持CNY' });
      if (!payer || typeof payer.openid !== 'string') return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'payer.openid 必填' });
      const no = b.out_trade_no as string;
      if (!OUT_TRADE_NO.test(no)) return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'out_trade_no 格式错误' });
      if ((b.description as string).length > 127) return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'description 超长' });
      const notify = b.notify_url as string;
      if (!/^https?:\/\/[^?]+$/.test(notify)) return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'notify_url 必须为https且不能携带参数' });
      if (b.appid !== m.appid) return send(req, reply, 400, { code: 'APPID_MCHID_NOT_MATCH', message: 'appid和mch_id不匹配' });
      if (!emu.users.has(payer.openid)) return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'appid和openid不匹配' });
      const now = emu.clock.now();
      let expiresAt = now + 7 * 86_400_000;
      if (typeof b.time_expire === 'string') {
        const t = Date.parse(b.time_expire);
        if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$/.test(b.time_expire)) return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'time_expire 格式错误' });
        expiresAt = Math.min(Math.max(t, now + 60_000), now + 15 * 86_400_000);
      }
      const fingerprint = canonical({ ...b, mchid: undefined });
      const existing = emu.orders.get(no);
      if (existing) {
        emu.current(existing);
        if (existing.fingerprint !== fingerprint) return send(req, reply, 400, { code: 'INVALID_REQUEST', message: '请求重入时，参数与首次请求时不一致' });
        if (existing.state === 'SUCCESS' || existing.state === 'REFUND') return send(req, reply, 400, { code: 'ORDERPAID', message: '该订单已支付' });
        if (existing.state === 'CLOSED') return send(req, reply, 400, { code: 'ORDER_CLOSED', message: '订单已关闭' });
        if (!emu.samePrepayIdOnReentry || now > (existing.prepayExpiresAt ?? 0)) {
          existing.prepayId = emu.newPrepayId();
          existing.prepayExpiresAt = now + 7_200_000;
          emu.prepays.set(existing.prepayId, no);
        }
        return send(req, reply, 200, { prepay_id: existing.prepayId });
      }
      const order: EmuOrder = {
        outTradeNo: no,
        api: 'v3',
        tradeType: 'JSAPI',
        appid: m.appid,
        description: b.description as string,
        total: amount.total as number,
        openid: payer.openid,
        ...(typeof b.attach === 'string' ? { attach: b.attach } : {}),
        notifyUrl: notify,
        fingerprint,
        createdAt: now,
        expiresAt,
        prepayId: emu.newPrepayId(),
        prepayExpiresAt: now + 7_200_000,
        state: 'NOTPAY',
        stateDesc: '订单未支付',
        refunded: 0,
      };
      emu.orders.set(no, order);
      emu.prepays.set(order.prepayId!, no);
      return send(req, reply, 200, { prepay_id: order.prepayId });
    }),
  );

  const queryMchid = (req: FastifyRequest): string | undefined => (req.query as Record<string, string | undefined>).mchid;

  app.get('/v3/pay/transactions/out-trade-no/:no', (req, reply) =>
    v3(req, reply, 'query', () => {
      if (!queryMchid(req)) return send(req, reply, 400, { code: 'PARAM_ERROR', message: '缺少参数mchid' });
      if (queryMchid(req) !== m.mchid) return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'mchid与请求头中的mchid不一致' });
      const o = emu.orders.get((req.params as { no: string }).no);
      if (!o) return send(req, reply, 404, { code: 'ORDER_NOT_EXIST', message: '订单不存在' });
      return send(req, reply, 200, emu.transactionJson(emu.current(o)));
    }),
  );

  app.get('/v3/pay/transactions/id/:id', (req, reply) =>
    v3(req, reply, 'query', () => {
      if (!queryMchid(req)) return send(req, reply, 400, { code: 'PARAM_ERROR', message: '缺少参数mchid' });
      const id = (req.params as { id: string }).id;
      const o = [...emu.orders.values()].find((x) => x.transactionId === id);
      if (!o) return send(req, reply, 404, { code: 'ORDER_NOT_EXIST', message: '订单不存在' });
      return send(req, reply, 200, emu.transactionJson(emu.current(o)));
    }),
  );

  app.post('/v3/pay/transactions/out-trade-no/:no/close', (req, reply) =>
    v3(req, reply, 'close', (b) => {
      if (typeof b.mchid !== 'string') return send(req, reply, 400, { code: 'PARAM_ERROR', message: '输入源"/body/mchid"映射到值字段"mchid"必填性规则校验失败' });
      const o = emu.orders.get((req.params as { no: string }).no);
      if (o) {
        emu.current(o);
        if (o.state === 'SUCCESS' || o.state === 'REFUND') return send(req, reply, 400, { code: 'ORDER_PAID', message: '订单已支付' });
        o.state = 'CLOSED';
        o.stateDesc = '订单已关闭';
      }
      // Re-closing, or closing an unknown number, is also 204.
      return send(req, reply, 204);
    }),
  );

  app.post('/v3/refund/domestic/refunds', (req, reply) =>
    v3(req, reply, 'refund', (b) => {
      const amount = b.amount as { refund?: unknown; total?: unknown; currency?: unknown } | undefined;
      const outRefundNo = b.out_refund_no;
      if (typeof outRefundNo !== 'string' || !outRefundNo || outRefundNo.length > 64) return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'out_refund_no 必填' });
      if (!amount || !Number.isInteger(amount.refund) || !Number.isInteger(amount.total) || (amount.refund as number) < 1 || amount.currency !== 'CNY') return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'amount 参数错误' });
      const o = typeof b.out_trade_no === 'string' ? emu.orders.get(b.out_trade_no) : [...emu.orders.values()].find((x) => x.transactionId === b.transaction_id);
      const fingerprint = canonical(b);
      const prior = emu.refunds.get(outRefundNo);
      if (prior) {
        if (prior.fingerprint !== fingerprint) return send(req, reply, 400, { code: 'INVALID_REQUEST', message: '请求重入时，参数与首次请求时不一致' });
        return send(req, reply, 200, emu.refundJson(prior));
      }
      if (!o || !o.transactionId) return send(req, reply, 404, { code: 'RESOURCE_NOT_EXISTS', message: '订单不存在' });
      if (o.state !== 'SUCCESS' && o.state !== 'REFUND') return send(req, reply, 404, { code: 'RESOURCE_NOT_EXISTS', message: '订单未支付' });
      if (amount.total !== o.total) return send(req, reply, 400, { code: 'INVALID_REQUEST', message: '订单金额与原订单金额不一致' });
      if (o.refunded + (amount.refund as number) > o.total) return send(req, reply, 400, { code: 'INVALID_REQUEST', message: '申请退款金额超过订单可退金额' });
      if ([...emu.refunds.values()].filter((r) => r.outTradeNo === o.outTradeNo).length >= 50) return send(req, reply, 403, { code: 'INVALID_REQUEST', message: '退款次数超过限制' });
      if (emu.merchantBalanceInsufficient) return send(req, reply, 403, { code: 'NOT_ENOUGH', message: '基本账户余额不足' });
      const r: EmuRefund = {
        outRefundNo,
        refundId: `50${Array.from(randomBytes(27), (x) => String(x % 10)).join('')}`.slice(0, 29),
        outTradeNo: o.outTradeNo,
        transactionId: o.transactionId,
        refund: amount.refund as number,
        total: o.total,
        status: 'PROCESSING',
        createdAt: emu.clock.now(),
        ...(typeof b.notify_url === 'string' ? { notifyUrl: b.notify_url } : {}),
        fingerprint,
      };
      o.refunded += r.refund;
      o.state = 'REFUND';
      o.stateDesc = '转入退款';
      emu.refunds.set(outRefundNo, r);
      emu.completeRefundLater(r);
      return send(req, reply, 200, emu.refundJson(r));
    }),
  );

  // 发起异常退款 (from memory of its page; not re-checked here): only a refund in ABNORMAL, once; to the
  // merchant's bank account, or to the shopper's card with bank_account and real_name RSA-OAEP encrypted
  // with WeChat Pay's key (which the Wechatpay-Serial request header names).
  app.post('/v3/refund/domestic/refunds/:no/apply-abnormal-refund', (req, reply) =>
    v3(req, reply, 'abnormal_refund', (b) => {
      const r = emu.refunds.get((req.params as { no: string }).no);
      if (!r) return send(req, reply, 404, { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' });
      if (b.type !== 'USER_BANK_CARD' && b.type !== 'MERCHANT_BANK_CARD') return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'type 取值错误' });
      if (r.status !== 'ABNORMAL') return send(req, reply, 400, { code: 'INVALID_REQUEST', message: '退款单状态不是退款异常，不能发起异常退款' });
      if (b.type === 'USER_BANK_CARD') {
        const key = req.headers['wechatpay-serial'] === m.platformPublicKeyId ? emu.opts.keys.platformPrivateKey : emu.opts.keys.platformCertPrivateKey;
        const open = (v: unknown): string | undefined => {
          try {
            return typeof v === 'string' ? privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(v, 'base64')).toString('utf8') : undefined;
          } catch {
            return undefined;
          }
        };
        if (typeof b.bank_type !== 'string' || !open(b.bank_account) || !open(b.real_name)) return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'bank_account / real_name 解密失败' });
      }
      r.status = 'PROCESSING';
      r.abnormalTo = b.type;
      emu.completeRefundLater(r);
      return send(req, reply, 200, emu.refundJson(r));
    }),
  );

  app.get('/v3/refund/domestic/refunds/:no', (req, reply) =>
    v3(req, reply, 'refund_query', () => {
      const r = emu.refunds.get((req.params as { no: string }).no);
      if (!r) return send(req, reply, 404, { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' });
      return send(req, reply, 200, emu.refundJson(r));
    }),
  );

  const bills = new Map<string, { file: Buffer; gzip: boolean }>();
  app.get('/v3/bill/tradebill', (req, reply) =>
    v3(req, reply, 'tradebill', () => {
      const q = req.query as Record<string, string | undefined>;
      if (!q.bill_date || !/^\d{4}-\d{2}-\d{2}$/.test(q.bill_date)) return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'bill_date 格式错误' });
      if (q.tar_type !== undefined && q.tar_type !== 'GZIP') return send(req, reply, 400, { code: 'PARAM_ERROR', message: 'tar_type 仅支持GZIP' });
      const gzip = q.tar_type === 'GZIP';
      emu.billRequests.push({ billDate: q.bill_date, tarType: gzip ? 'GZIP' : 'NONE' });
      const csv = emu.tradeBillCsv(q.bill_date);
      const token = randomBytes(16).toString('hex');
      bills.set(token, { file: gzip ? gzipSync(Buffer.from(csv, 'utf8')) : Buffer.from(csv, 'utf8'), gzip });
      // The hash is of the bill itself, after decompression ("原始账单（gzip需要解压缩）的摘要值" on the tradebill page; from memory).
      return send(req, reply, 200, { hash_type: 'SHA1', hash_value: createHash('sha1').update(csv, 'utf8').digest('hex'), download_url: `${emu.opts.publicBaseUrl()}/v3/billdownload/file?token=${token}` });
    }),
  );
  app.get('/v3/billdownload/file', async (req, reply) => {
    const auth = checkV3Auth(emu, req);
    if (!auth.ok) return sendV3(emu, req, reply, auth.status, auth.body);
    const bill = bills.get((req.query as { token?: string }).token ?? '');
    if (bill === undefined) return sendV3(emu, req, reply, 404, { code: 'RESOURCE_NOT_EXISTS', message: '账单不存在' });
    // The file itself is not signed; its SHA1 came in the signed tradebill answer.
    return reply.code(200).type(bill.gzip ? 'application/octet-stream' : 'text/plain; charset=utf-8').send(bill.file);
  });

  app.get('/v3/certificates', (req, reply) =>
    v3(req, reply, 'certificates', () => {
      if (emu.opts.platformMode === 'public_key') return send(req, reply, 403, { code: 'NOT_ENOUGH', message: '平台证书已过期失效，请使用微信支付公钥' });
      const nonce = nonceStr(12);
      const now = emu.clock.now();
      return send(req, reply, 200, {
        data: [
          {
            serial_no: m.platformCertSerial,
            effective_time: rfc3339(now - 86_400_000),
            expire_time: rfc3339(now + 4 * 365 * 86_400_000),
            encrypt_certificate: { algorithm: 'AEAD_AES_256_GCM', nonce, associated_data: 'certificate', ciphertext: aeadEncrypt(m.platformCertPem, m.apiV3Key, nonce, 'certificate') },
          },
        ],
      });
    }),
  );

  // Any other /v3 path: authenticate first (as WeChat does), then 404.
  app.all('/v3/*', (req, reply) => v3(req, reply, 'other', () => send(req, reply, 404, { code: 'RESOURCE_NOT_EXISTS', message: '无可用的路由' })));

  // ---- v2 papay (XML) ---------------------------------------------------------------------------------

  const v2 = async (req: FastifyRequest, reply: FastifyReply, route: string, handler: (f: Record<string, string>, signType: V2SignType) => Record<string, string | number | undefined>): Promise<void> => {
    let signType: V2SignType = 'MD5';
    const api = req.routeOptions.url as PapayApi;
    const xml = (fields: Record<string, string | number | undefined>, signed: boolean): void => {
      const fault = req.fault;
      // Answers are signed with the request's sign type; a refusal before the sign is checked is not signed.
      let body = signed ? emu.v2Signed(fields, signType) : buildV2Xml(fields);
      if (fault?.kind === 'response' && fault.response !== 'stale_timestamp') body = body.replace(/<sign><!\[CDATA\[([0-9A-F])/, (_m, c: string) => `<sign><![CDATA[${c === 'A' ? 'B' : 'A'}`);
      void reply.code(200).type('text/xml').send(body);
    };
    const f = parseV2Xml(req.rawBody ?? '');
    if (!f) return void xml({ return_code: 'FAIL', return_msg: 'XML格式错误' }, false);
    if (f.mch_id !== m.mchid) return void xml({ return_code: 'FAIL', return_msg: 'mch_id参数格式错误' }, false);
    // Each API takes the sign types its page documents (papay.signing.ts); deletecontract verifies MD5 only.
    const verifyWith = requestSignType(api, f.sign_type);
    if (!verifyWith || !v2Verify(f, m.apiV2Key, verifyWith)) return void xml({ return_code: 'FAIL', return_msg: '签名错误' }, false);
    signType = verifyWith;
    const fault = emu.takeApiFault(route);
    if (fault?.kind === 'status') return void reply.code(fault.status).type('text/plain').send('System Error');
    if (fault?.kind === 'timeout_before') {
      await hang();
      return void reply.code(504).send('');
    }
    req.fault = fault;
    const out = handler(f, signType);
    if (fault?.kind === 'timeout_after') {
      await hang();
      return void reply.code(504).send('');
    }
    const ok = out.result_code === 'SUCCESS';
    xml({ return_code: 'SUCCESS', return_msg: 'OK', appid: f.appid ?? m.appid, mch_id: m.mchid, nonce_str: nonceStr(32), ...out, ...(ok ? {} : {}) }, true);
  };
  const fail = (code: string, des: string): Record<string, string> => ({ result_code: 'FAIL', err_code: code, err_code_des: des });

  app.post('/papay/querycontract', (req, reply) =>
    v2(req, reply, 'querycontract', (f) => {
      const c = f.contract_id ? emu.contracts.get(f.contract_id) : f.plan_id && f.contract_code ? emu.contractByCode(f.plan_id, f.contract_code) : undefined;
      if (!c) return fail('CONTRACT_NOT_EXIST', '签约协议不存在');
      return { result_code: 'SUCCESS', ...emu.contractFields(c) };
    }),
  );

  app.post('/papay/deletecontract', (req, reply) =>
    v2(req, reply, 'deletecontract', (f) => {
      const c = f.contract_id ? emu.contracts.get(f.contract_id) : f.plan_id && f.contract_code ? emu.contractByCode(f.plan_id, f.contract_code) : undefined;
      if (!c || c.state !== 'SIGNED') return fail('CONTRACT_NOT_EXIST', '签约协议不存在或已解约');
      emu.terminateContract(c, '3', f.contract_termination_remark ?? '');
      return { result_code: 'SUCCESS', contract_id: c.contractId, plan_id: c.planId, contract_code: c.contractCode };
    }),
  );

  app.post('/pay/pappayapply', (req, reply) =>
    v2(req, reply, 'pappayapply', (f, signType) => {
      for (const k of ['appid', 'body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type', 'contract_id']) if (!f[k]) return fail('PARAM_ERROR', `缺少参数${k}`);
      if (f.trade_type !== 'PAP') return fail('PARAM_ERROR', 'trade_type 必须为PAP');
      if (!/^[1-9]\d*$/.test(f.total_fee!)) return fail('PARAM_ERROR', 'total_fee 必须为正整数');
      if (!OUT_TRADE_NO.test(f.out_trade_no!)) return fail('PARAM_ERROR', 'out_trade_no 格式错误');
      const fingerprint = canonical({ ...f, sign: undefined, nonce_str: undefined });
      const existing = emu.orders.get(f.out_trade_no!);
      if (existing) {
        // The same mchid + out_trade_no deducts at most once.
        if (existing.fingerprint !== fingerprint) return fail('INVALID_REQUEST', '商户订单号重复，参数不一致');
        if (existing.state === 'SUCCESS' || existing.state === 'REFUND') return fail('ORDERPAID', '该订单已支付');
        if (existing.state === 'PAYERROR' || existing.state === 'CLOSED') return fail('ORDERCLOSED', '订单已关闭');
        return { result_code: 'SUCCESS' };
      }
      const c = emu.contracts.get(f.contract_id!);
      if (!c || c.state !== 'SIGNED') return fail('CONTRACT_NOT_EXIST', '签约协议不存在或已解约');
      const now = emu.clock.now();
      const o: EmuOrder = {
        outTradeNo: f.out_trade_no!,
        api: 'v2',
        tradeType: 'PAP',
        appid: f.appid!,
        description: f.body!,
        total: Number(f.total_fee),
        openid: c.openid,
        ...(f.attach !== undefined ? { attach: f.attach } : {}),
        notifyUrl: f.notify_url!,
        fingerprint,
        createdAt: now,
        expiresAt: now + 7 * 86_400_000,
        state: 'ACCEPT',
        stateDesc: '已受理，等待扣款',
        refunded: 0,
        contractId: c.contractId,
        signType,
      };
      emu.orders.set(o.outTradeNo, o);
      emu.settleDeductionLater(o);
      return { result_code: 'SUCCESS' };
    }),
  );

  app.post('/pay/paporderquery', (req, reply) =>
    v2(req, reply, 'paporderquery', (f) => {
      const o = f.out_trade_no ? emu.orders.get(f.out_trade_no) : [...emu.orders.values()].find((x) => x.transactionId === f.transaction_id);
      if (!o) return fail('ORDERNOTEXIST', '订单不存在');
      const fields = emu.v2OrderFields(o);
      return { result_code: 'SUCCESS', ...fields, ...(o.errCode ? { err_code: o.errCode, err_code_des: o.stateDesc } : {}) };
    }),
  );

  app.post('/pay/contractorder', (req, reply) =>
    v2(req, reply, 'contractorder', (f, signType) => {
      for (const k of ['appid', 'body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type', 'openid', 'plan_id', 'contract_code', 'request_serial', 'contract_display_account', 'contract_notify_url'])
        if (!f[k]) return fail('PARAM_ERROR', `缺少参数${k}`);
      if (f.trade_type !== 'JSAPI') return fail('PARAM_ERROR', 'trade_type 必须为JSAPI');
      if (!emu.users.has(f.openid!)) return fail('PARAM_ERROR', 'appid和openid不匹配');
      if (!samePlan(f.plan_id!, m.planId)) return fail('PARAM_ERROR', '模板不存在');
      const fingerprint = canonical({ ...f, sign: undefined, nonce_str: undefined });
      const now = emu.clock.now();
      const existing = emu.orders.get(f.out_trade_no!);
      if (existing) {
        if (existing.fingerprint !== fingerprint) return fail('INVALID_REQUEST', '商户订单号重复，参数不一致');
        if (existing.state === 'SUCCESS' || existing.state === 'REFUND') return fail('ORDERPAID', '该订单已支付');
        return { result_code: 'SUCCESS', trade_type: 'JSAPI', prepay_id: existing.prepayId, contract_result_code: 'SUCCESS' };
      }
      if (emu.usedContractCodes.has(f.contract_code!)) return fail('CONTRACT_ERROR', '签约协议号已被使用');
      const o: EmuOrder = {
        outTradeNo: f.out_trade_no!,
        api: 'v2',
        tradeType: 'JSAPI',
        appid: f.appid!,
        description: f.body!,
        total: Number(f.total_fee),
        openid: f.openid!,
        ...(f.attach !== undefined ? { attach: f.attach } : {}),
        notifyUrl: f.notify_url!,
        fingerprint,
        createdAt: now,
        expiresAt: now + 7 * 86_400_000,
        prepayId: emu.newPrepayId(),
        prepayExpiresAt: now + 7_200_000,
        state: 'NOTPAY',
        stateDesc: '订单未支付',
        refunded: 0,
        signType,
        pendingContract: { planId: f.plan_id!, contractCode: f.contract_code!, requestSerial: f.request_serial!, displayAccount: f.contract_display_account!, notifyUrl: f.contract_notify_url!, signType },
      };
      emu.orders.set(o.outTradeNo, o);
      emu.prepays.set(o.prepayId!, o.outTradeNo);
      return { result_code: 'SUCCESS', trade_type: 'JSAPI', prepay_id: o.prepayId, contract_result_code: 'SUCCESS' };
    }),
  );

  // ---- mini-program server APIs (api.weixin.qq.com) ---------------------------------------------------

  const mp = (reply: FastifyReply, body: Record<string, unknown>): void => void reply.code(200).type('application/json').send(JSON.stringify(body));
  const tokenValid = (req: FastifyRequest): boolean => {
    const t = (req.query as { access_token?: string }).access_token ?? '';
    const exp = emu.accessTokens.get(t);
    return exp !== undefined && exp > emu.clock.now();
  };
  const jsonBody = (req: FastifyRequest): Record<string, unknown> | undefined => {
    try {
      const v = JSON.parse(req.rawBody ?? '') as unknown;
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };

  app.get('/sns/jscode2session', (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const fault = emu.takeApiFault('jscode2session');
    if (fault?.kind === 'status') return mp(reply, { errcode: fault.status === 429 ? 45011 : -1, errmsg: fault.status === 429 ? 'api minute-quota reach limit' : 'system error' });
    if (q.appid !== m.appid) return mp(reply, { errcode: 40013, errmsg: 'invalid appid' });
    if (q.secret !== m.appSecret) return mp(reply, { errcode: 40125, errmsg: 'invalid appsecret' });
    if (q.grant_type !== 'authorization_code') return mp(reply, { errcode: 40002, errmsg: 'invalid grant_type' });
    const c = emu.loginCodes.get(q.js_code ?? '');
    if (!c || c.expiresAt < emu.clock.now()) return mp(reply, { errcode: 40029, errmsg: 'invalid code' });
    if (c.used) return mp(reply, { errcode: 40163, errmsg: 'code been used' });
    c.used = true;
    return mp(reply, { openid: c.openid, session_key: randomBytes(16).toString('base64') });
  });

  app.get('/cgi-bin/token', (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.grant_type !== 'client_credential') return mp(reply, { errcode: 40002, errmsg: 'invalid grant_type' });
    if (q.appid !== m.appid) return mp(reply, { errcode: 40013, errmsg: 'invalid appid' });
    if (q.secret !== m.appSecret) return mp(reply, { errcode: 40125, errmsg: 'invalid appsecret' });
    const token = randomBytes(48).toString('base64url');
    emu.accessTokens.set(token, emu.clock.now() + 7_200_000);
    return mp(reply, { access_token: token, expires_in: 7200 });
  });

  // stable_token (from memory of the mini-program server API page; not re-checked): JSON body; the same token
  // while it is valid, a new one (the old one then invalid) with force_refresh, which is limited per day;
  // independent of cgi-bin/token's tokens.
  app.post('/cgi-bin/stable_token', (req, reply) => {
    const b = jsonBody(req);
    if (!b) return mp(reply, { errcode: 47001, errmsg: 'data format error' });
    if (b.grant_type !== 'client_credential') return mp(reply, { errcode: 40002, errmsg: 'invalid grant_type' });
    if (b.appid !== m.appid) return mp(reply, { errcode: 40013, errmsg: 'invalid appid' });
    if (b.secret !== m.appSecret) return mp(reply, { errcode: 40125, errmsg: 'invalid appsecret' });
    const now = emu.clock.now();
    const current = emu.stableToken;
    if (b.force_refresh === true) {
      if (emu.stableTokenForcedToday >= 20) return mp(reply, { errcode: 45009, errmsg: 'reach max api daily quota limit' });
      emu.stableTokenForcedToday++;
    } else if (current && current.expiresAt > now) {
      return mp(reply, { access_token: current.token, expires_in: Math.floor((current.expiresAt - now) / 1000) });
    }
    if (current) emu.accessTokens.delete(current.token);
    const token = randomBytes(48).toString('base64url');
    emu.stableToken = { token, expiresAt: now + 7_200_000 };
    emu.accessTokens.set(token, now + 7_200_000);
    emu.stableTokenRequests++;
    return mp(reply, { access_token: token, expires_in: 7200 });
  });

  // getwxacodeunlimit: a PNG on success, a JSON error otherwise. scene ≤ 32 characters of a fixed set
  // (40129); page without a leading slash (41030); width clamped to 280–1280 (inferred from the page's limits).
  app.post('/wxa/getwxacodeunlimit', (req, reply) => {
    if (!tokenValid(req)) return mp(reply, { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' });
    const b = jsonBody(req);
    if (!b) return mp(reply, { errcode: 47001, errmsg: 'data format error' });
    if (!validScene(b.scene)) return mp(reply, { errcode: 40129, errmsg: 'invalid scene' });
    const page = b.page === undefined || b.page === '' ? 'pages/index/index' : b.page;
    if (typeof page !== 'string' || page.startsWith('/') || page.includes('?')) return mp(reply, { errcode: 41030, errmsg: 'invalid page' });
    if (b.env_version !== undefined && !['release', 'trial', 'develop'].includes(b.env_version as string)) return mp(reply, { errcode: 40097, errmsg: 'invalid args' });
    const width = Math.min(1280, Math.max(280, typeof b.width === 'number' && Number.isFinite(b.width) ? Math.round(b.width) : 430));
    emu.wxacodes.push({ scene: b.scene, page, width });
    return void reply.code(200).type('image/png').send(wxacodePng(b.scene, page, width));
  });

  app.post('/wxa/business/getuserphonenumber', (req, reply) => {
    if (!tokenValid(req)) return mp(reply, { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' });
    const b = jsonBody(req);
    if (!b || typeof b.code !== 'string') return mp(reply, { errcode: 47001, errmsg: 'data format error' });
    const c = emu.phoneCodes.get(b.code);
    if (!c || c.used) return mp(reply, { errcode: 40029, errmsg: 'invalid code' });
    c.used = true;
    return mp(reply, { errcode: 0, errmsg: 'ok', phone_info: { phoneNumber: c.phone, purePhoneNumber: c.phone, countryCode: '86', watermark: { timestamp: Math.floor(emu.clock.now() / 1000), appid: m.appid } } });
  });

  app.post('/cgi-bin/message/subscribe/send', (req, reply) => {
    if (!tokenValid(req)) return mp(reply, { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' });
    const b = jsonBody(req);
    if (!b || typeof b.touser !== 'string' || typeof b.template_id !== 'string') return mp(reply, { errcode: 47003, errmsg: 'argument invalid!' });
    const data = b.data;
    if (!data || typeof data !== 'object' || Object.values(data).some((v) => !v || typeof v !== 'object' || typeof (v as { value?: unknown }).value !== 'string')) return mp(reply, { errcode: 47003, errmsg: 'argument invalid! data.value invalid' });
    if (!emu.users.has(b.touser)) return mp(reply, { errcode: 40003, errmsg: 'invalid openid' });
    const key = `${b.touser}|${b.template_id}`;
    const quota = emu.subscribeQuota.get(key) ?? 0;
    if (quota <= 0) return mp(reply, { errcode: 43101, errmsg: 'user refuse to accept the msg' });
    emu.subscribeQuota.set(key, quota - 1);
    emu.sentMessages.push({ touser: b.touser, template_id: b.template_id, ...(typeof b.page === 'string' ? { page: b.page } : {}), data: data as Record<string, { value: string }>, at: emu.clock.now() });
    return mp(reply, { errcode: 0, errmsg: 'ok' });
  });

  // Unknown routes. /v3/* is answered above after authentication; the mini-program hosts answer an errcode
  // (40066 "invalid url", inferred), with 404 so that a client checking only the status sees it too; the v2
  // XML host a v2 FAIL document (inferred).
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (/^\/(cgi-bin|wxa|sns)\//.test(path)) return void reply.code(404).type('application/json').send(JSON.stringify({ errcode: 40066, errmsg: 'invalid url' }));
    if (/^\/(pay|papay|secapi)\//.test(path)) return void reply.code(404).type('text/xml').send(buildV2Xml({ return_code: 'FAIL', return_msg: '无可用的路由' }));
    return void reply.code(404).type('application/json').send(JSON.stringify({ code: 'RESOURCE_NOT_EXISTS', message: '无可用的路由' }));
  });

  registerControl(app, emu);
  return app;
}

/** `/__control/*`: the shopper's WeChat client and the fault switches, for tests and manual play. */
function registerControl(app: FastifyInstance, emu: WechatEmulator): void {
  const body = (req: FastifyRequest): Record<string, unknown> => {
    try {
      return (JSON.parse(req.rawBody || '{}') as Record<string, unknown>) ?? {};
    } catch {
      return {};
    }
  };
  const json = (reply: FastifyReply, status: number, v: unknown): void => void reply.code(status).type('application/json').send(JSON.stringify(v));

  app.get('/__control/merchant', (_req, reply) => {
    const { merchantPrivateKeyPem: _a, platformPrivateKeyPem: _b, platformCertPrivateKeyPem: _c, ...pub } = emu.merchant;
    json(reply, 200, pub);
  });
  app.post('/__control/users', (req, reply) => {
    const b = body(req);
    const u = emu.ensureUser(typeof b.openid === 'string' ? b.openid : undefined);
    if (typeof b.insufficientBalance === 'boolean') u.insufficientBalance = b.insufficientBalance;
    if (typeof b.risk === 'boolean') u.risk = b.risk;
    json(reply, 200, u);
  });
  app.post('/__control/login-code', (req, reply) => {
    const b = body(req);
    const u = emu.ensureUser(typeof b.openid === 'string' ? b.openid : undefined);
    const code = randomBytes(16).toString('hex');
    emu.loginCodes.set(code, { openid: u.openid, expiresAt: emu.clock.now() + 300_000, used: false });
    json(reply, 200, { code, openid: u.openid });
  });
  app.post('/__control/phone-code', (req, reply) => {
    const b = body(req);
    const u = emu.ensureUser(typeof b.openid === 'string' ? b.openid : undefined);
    const code = randomBytes(16).toString('hex');
    emu.phoneCodes.set(code, { phone: typeof b.phone === 'string' ? b.phone : u.phone, used: false });
    json(reply, 200, { code });
  });
  app.post('/__control/subscribe', (req, reply) => {
    const b = body(req);
    const key = `${String(b.openid)}|${String(b.templateId)}`;
    emu.subscribeQuota.set(key, (emu.subscribeQuota.get(key) ?? 0) + (typeof b.count === 'number' ? b.count : 1));
    json(reply, 200, { [String(b.templateId)]: 'accept' });
  });
  app.get('/__control/messages', (_req, reply) => json(reply, 200, emu.sentMessages));
  app.post('/__control/pay', (req, reply) => {
    const r = emu.pay(body(req) as Parameters<WechatEmulator['pay']>[0]);
    json(reply, r.ok ? 200 : 400, r.ok ? { errMsg: 'requestPayment:ok', transaction_id: r.transactionId } : r);
  });
  app.post('/__control/cancel', (_req, reply) => json(reply, 200, { errMsg: 'requestPayment:fail cancel' }));
  app.post('/__control/papay/sign', (req, reply) => {
    const b = body(req);
    const given = (b.extraData ?? {}) as Record<string, string>;
    // The merchant signs the raw notify_url and URL-encodes it afterwards for extraData.
    const x: Record<string, string> = { ...given, ...(given.notify_url ? { notify_url: decodeURIComponent(given.notify_url) } : {}) };
    const openid = typeof b.openid === 'string' ? b.openid : '';
    const signType = requestSignType('entrust', x.sign_type);
    if (!emu.users.has(openid)) return json(reply, 400, { return_code: 'FAIL', return_msg: 'unknown user' });
    if (x.mch_id !== emu.merchant.mchid || x.appid !== emu.merchant.appid || !signType || !v2Verify(x, emu.merchant.apiV2Key, signType)) return json(reply, 400, { return_code: 'FAIL', return_msg: '签名错误' });
    const ts = Number(x.timestamp);
    if (!Number.isFinite(ts) || Math.abs(emu.clock.now() / 1000 - ts) > 600) return json(reply, 400, { return_code: 'FAIL', return_msg: '请求已过期' });
    const c = emu.createContract(openid, { planId: x.plan_id ?? '', contractCode: x.contract_code ?? '', requestSerial: x.request_serial ?? '', displayAccount: x.contract_display_account ?? '', notifyUrl: x.notify_url ?? '', signType });
    if ('error' in c) return json(reply, 400, { return_code: 'FAIL', return_msg: c.error });
    json(reply, 200, { referrerInfo: { appId: 'wxbd687630cd02ce1d', extraData: { return_code: 'SUCCESS' } }, contract_id: c.contractId });
  });
  app.get('/__control/papay/template', (_req, reply) => json(reply, 200, emu.papayTemplate));
  app.post('/__control/papay/template', (req, reply) => {
    const b = body(req);
    const url = (v: unknown): string | null | undefined => (v === null ? null : typeof v === 'string' && /^https?:\/\/\S+$/.test(v) ? v : undefined);
    json(reply, 200, emu.configureTemplate({ signNotifyUrl: url(b.signNotifyUrl), terminationNotifyUrl: url(b.terminationNotifyUrl) }));
  });
  app.post('/__control/papay/revoke', (req, reply) => {
    const b = body(req);
    const c = typeof b.contract_id === 'string' ? emu.contracts.get(b.contract_id) : undefined;
    if (!c) return json(reply, 404, { error: 'no such contract' });
    emu.terminateContract(c, '2', '用户在微信中解约');
    json(reply, 200, emu.contractFields(c));
  });
  app.post('/__control/faults', (req, reply) => {
    const b = body(req);
    if (typeof b.notification === 'string') emu.injectNotificationFault(b.notification as NotificationFault, typeof b.times === 'number' ? b.times : 1);
    if (typeof b.route === 'string' && b.fault && typeof b.fault === 'object') emu.injectApiFault(b.route, b.fault as ApiFault, typeof b.times === 'number' ? b.times : 1);
    if (typeof b.rejectReplayedNonce === 'boolean') emu.rejectReplayedNonce = b.rejectReplayedNonce;
    if (typeof b.notificationsEnabled === 'boolean') emu.notificationsEnabled = b.notificationsEnabled;
    if (typeof b.merchantBalanceInsufficient === 'boolean') emu.merchantBalanceInsufficient = b.merchantBalanceInsufficient;
    if (isRefundOutcome(b.refundOutcome)) for (let i = 0; i < (typeof b.times === 'number' ? b.times : 1); i++) emu.refundOutcomes.push(b.refundOutcome);
    json(reply, 200, { apiFaults: Object.fromEntries(emu.apiFaults), notificationFaults: emu.notificationFaults });
  });
  app.post('/__control/forge', async (req, reply) => {
    const b = body(req);
    const accepted = await emu.forgeV3Success(String(b.url), String(b.out_trade_no), b.how as Parameters<WechatEmulator['forgeV3Success']>[2]);
    json(reply, 200, { accepted });
  });
  app.post('/__control/replay', async (_req, reply) => json(reply, 200, { accepted: await emu.replayLast() }));
  app.get('/__control/state', (_req, reply) =>
    json(reply, 200, {
      orders: [...emu.orders.values()].map((o) => ({ ...o, fingerprint: undefined })),
      refunds: [...emu.refunds.values()].map((r) => ({ ...r, fingerprint: undefined })),
      contracts: [...emu.contracts.values()],
      charges: emu.charges,
      deliveries: emu.notifier.log,
    }),
  );
}

/** Checks the merchant's Authorization as WeChat does; failures are 401 SIGN_ERROR with sign_information. */
function checkV3Auth(emu: WechatEmulator, req: FastifyRequest): { ok: true; mchid: string } | { ok: false; status: number; body: Record<string, unknown> } {
  const m = emu.merchant;
  const authz = req.headers.authorization ?? '';
  const signError = (issue: string, message = '签名错误，请检查后再试'): { ok: false; status: number; body: Record<string, unknown> } => {
    const signed = requestSigningString(req.method, req.url, fields.timestamp ?? '', fields.nonce_str ?? '', req.rawBody ?? '');
    return {
      ok: false,
      status: 401,
      body: {
        code: 'SIGN_ERROR',
        message,
        detail: { field: 'signature', location: 'authorization', detail: { issue }, sign_information: { method: req.method, url: req.url, sign_message_length: Buffer.byteLength(signed), truncated_sign_message: signed.slice(0, 400) } },
      },
    };
  };
  const fields: Record<string, string> = {};
  const match = /^WECHATPAY2-SHA256-RSA2048\s+(.*)$/.exec(authz);
  if (!match) return signError('authorization scheme missing or unsupported', '错误的签名认证方式');
  for (const part of match[1]!.matchAll(/(\w+)="([^"]*)"/g)) fields[part[1]!] = part[2]!;
  for (const k of ['mchid', 'nonce_str', 'timestamp', 'serial_no', 'signature']) if (!fields[k]) return signError(`${k} missing`);
  // An unknown merchant in the Authorization is an authentication failure like any other (wechatpay.md §13:
  // every Authorization check answers 401 SIGN_ERROR); 400 MCH_NOT_EXISTS is about a body's mchid.
  if (fields.mchid !== m.mchid) return signError('mchid not found', '商户号与签名不匹配');
  if (fields.serial_no!.toUpperCase() !== m.merchantSerial.toUpperCase()) return signError('serial_no not found', '商户证书序列号有误');
  const ts = Number(fields.timestamp);
  if (!/^\d{10}$/.test(fields.timestamp!) || Math.abs(emu.clock.now() / 1000 - ts) > WINDOW_S) return signError('timestamp expired', '请求时间戳已过期');
  const message = requestSigningString(req.method, req.url, fields.timestamp!, fields.nonce_str!, req.rawBody ?? '');
  if (!rsaVerify(message, fields.signature!, emu.opts.keys.merchantPublicKey)) return signError('sign not match');
  if (emu.rejectReplayedNonce) {
    const now = emu.clock.now();
    for (const [n, at] of emu.seenNonces) if (now - at > WINDOW_S * 1000) emu.seenNonces.delete(n);
    if (emu.seenNonces.has(fields.nonce_str!)) return signError('nonce replayed', '请求重放');
    emu.seenNonces.set(fields.nonce_str!, now);
  }
  return { ok: true, mchid: fields.mchid! };
}

/** Sends a v3 answer signed over its exact bytes (including the empty body of a 204), with fault variants. */
function sendV3(emu: WechatEmulator, req: FastifyRequest, reply: FastifyReply, status: number, body?: unknown): void {
  if (req.withhold) {
    const wait = req.withhold;
    req.withhold = undefined;
    void wait().then(() => reply.code(504).send(''));
    return;
  }
  const text = status === 204 || body === undefined ? '' : JSON.stringify(body);
  const signer = emu.platformSigner(typeof req.headers['wechatpay-serial'] === 'string' ? req.headers['wechatpay-serial'] : undefined);
  const fault = req.fault?.kind === 'response' ? req.fault.response : undefined;
  const code = status >= 400 ? ({ 400: 268498688, 401: 268443699, 403: 268498689, 404: 268512771, 429: 268447840 } as Record<number, number>)[status] ?? 268435456 : 0;
  reply.header('Request-ID', emu.newRequestId(code));
  if (fault !== 'no_signature') {
    const h = emu.signHeaders(text, signer, { stale: fault === 'stale_timestamp', badSignature: fault === 'bad_signature' });
    for (const [k, v] of Object.entries(h)) reply.header(k, v);
  }
  if (status === 204) return void reply.code(204).send();
  void reply.code(status).type('application/json').send(text);
}

/** Order-independent fingerprint of a request body, for re-entry checks. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${k}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
