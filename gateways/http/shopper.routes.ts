import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../common/clock';
import { AppError } from '../../common/errors';
import type { RequestLimiter } from '../../common/shared-state';
import type { TokenSigner } from '../../common/tokens';
import { API_PREFIX, QR_LINK_PATH, SANDBOX_WECHAT_PATH, AppealRequest, CheckoutRequest, LoginRequest, PayDebtsRequest, PhoneRequest, SHOPPER_ROUTES, StartVisitRequest } from '../../contracts/shopper-api';
import { CabinetId } from '../../contracts/domain';
import type { ShopperService } from '../../app/shopper.service';
import type { ShoppingService } from '../../app/shopping.service';

export interface ShopperRouteDeps {
  service: ShopperService;
  shopping: ShoppingService;
  tokens: TokenSigner;
  limiter: RequestLimiter;
  clock: Clock;
  /**
   * WeChat sandbox only: the emulator's address, served at SANDBOX_WECHAT_PATH so the mini-program's development
   * configuration (WeChat DevTools against `npm start`) can play the shopper's WeChat client on it.
   */
  sandboxWechatUrl?: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    shopperId?: string;
  }
}

const CabinetParams = z.object({ cabinetId: CabinetId });
const SessionParams = z.object({ sessionId: z.string().min(1).max(64) });
const OrderParams = z.object({ orderId: z.string().min(1).max(64) });

/** The `Idempotency-Key` header (checkout, debt payment): 8–64 visible characters, or absent. */
const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{8,64}$/, 'Idempotency-Key must be 8–64 visible ASCII characters');
function idempotencyKey(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const r = IdempotencyKey.safeParse(Array.isArray(v) ? v[0] : v);
  if (!r.success) throw new AppError('BAD_REQUEST', r.error.issues[0]?.message ?? 'bad Idempotency-Key');
  return r.data;
}

/** Shopper API v1 (contracts/shopper-api.ts): bearer auth and a rate limit per shopper on every route but login. */
export function registerShopperRoutes(app: FastifyInstance, deps: ShopperRouteDeps): void {
  const shopperOf = (req: FastifyRequest): string => {
    if (!req.shopperId) throw new AppError('UNAUTHENTICATED');
    return req.shopperId;
  };

  app.register(
    async (api) => {
      // A refused call says when to come back: Retry-After (whole seconds) and details.retryAfterMs.
      const limit = async (key: string, now: number, reply: FastifyReply): Promise<void> => {
        const r = await deps.limiter.take(key, now);
        if (r.allowed) return;
        const retryAfterMs = r.retryAfterMs;
        void reply.header('retry-after', String(Math.ceil(retryAfterMs / 1000)));
        throw new AppError('RATE_LIMITED', `too many requests; retry in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
      };
      api.addHook('onRequest', async (req, reply) => {
        const now = deps.clock.now();
        if (req.url === `${API_PREFIX}${SHOPPER_ROUTES.login.path}`) return limit(`ip:${req.ip}`, now, reply);
        const h = req.headers.authorization ?? '';
        const sub = h.startsWith('Bearer ') ? deps.tokens.verify(h.slice(7), now) : undefined;
        if (!sub) throw new AppError('UNAUTHENTICATED', 'sign in again: the token is missing, invalid or expired');
        await limit(sub, now, reply);
        req.shopperId = sub;
      });

      api.post(SHOPPER_ROUTES.login.path, async (req) => deps.service.login(LoginRequest.parse(req.body).code));
      api.post(SHOPPER_ROUTES.phone.path, async (req) => deps.service.authorisePhone(shopperOf(req), PhoneRequest.parse(req.body).code));
      api.get(SHOPPER_ROUTES.me.path, async (req) => deps.service.me(shopperOf(req)));
      api.get(SHOPPER_ROUTES.papayContract.path, async (req) => ({ contract: await deps.service.contract(shopperOf(req)) }));
      api.get(SHOPPER_ROUTES.cabinet.path, async (req) => {
        const { cabinetId } = CabinetParams.parse(req.params);
        const { flow } = SHOPPER_ROUTES.cabinet.query.parse(req.query);
        return deps.service.cabinet(cabinetId, flow);
      });
      api.get(SHOPPER_ROUTES.catalogue.path, async (req) => deps.service.catalogue(CabinetParams.parse(req.params).cabinetId));

      const shop = deps.shopping;
      api.post(SHOPPER_ROUTES.startVisit.path, async (req, reply) => reply.status(SHOPPER_ROUTES.startVisit.status).send(await shop.startVisit(shopperOf(req), StartVisitRequest.parse(req.body).cabinetId)));
      api.get(SHOPPER_ROUTES.visit.path, async (req) => shop.visit(shopperOf(req), SessionParams.parse(req.params).sessionId));
      api.post(SHOPPER_ROUTES.checkout.path, async (req) => {
        const body = CheckoutRequest.parse(req.body);
        const key = idempotencyKey(req.headers['idempotency-key']);
        return shop.checkout(shopperOf(req), { cabinetId: body.cabinetId, lines: body.lines, signContract: body.signContract, ...(body.sessionId ? { sessionId: body.sessionId } : {}), ...(key ? { idempotencyKey: key } : {}) });
      });
      api.get(SHOPPER_ROUTES.debts.path, async (req) => shop.debts(shopperOf(req)));
      api.post(SHOPPER_ROUTES.payDebts.path, async (req) => shop.payDebts(shopperOf(req), PayDebtsRequest.parse(req.body).via, idempotencyKey(req.headers['idempotency-key'])));
      api.post(SHOPPER_ROUTES.papaySign.path, async (req) => shop.papaySign(shopperOf(req)));
      api.get(SHOPPER_ROUTES.orders.path, async (req) => shop.orders(shopperOf(req)));
      api.get(SHOPPER_ROUTES.order.path, async (req) => shop.order(shopperOf(req), OrderParams.parse(req.params).orderId));
      api.post(SHOPPER_ROUTES.appeal.path, async (req) => shop.appeal(shopperOf(req), OrderParams.parse(req.params).orderId, AppealRequest.parse(req.body).reason));
    },
    { prefix: API_PREFIX },
  );

  const sandbox = deps.sandboxWechatUrl;
  if (sandbox) app.get(SANDBOX_WECHAT_PATH, async () => ({ baseUrl: sandbox }));

  // The link a cabinet's QR code carries. Inside WeChat the scan opens the mini-program (the link is
  // registered for it); any other scanner lands here and is told to use WeChat, not shown a 404.
  app.get(QR_LINK_PATH, async (req, reply) => {
    const { cabinetId } = CabinetParams.parse(req.params);
    const cab = await deps.service.cabinet(cabinetId, undefined);
    return reply.type('text/html; charset=utf-8').send(qrLandingPage(cab.cabinetId, cab.name));
  });
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function qrLandingPage(cabinetId: string, name: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(name)}</title></head>
<body style="font-family:sans-serif;text-align:center;padding:3em 1em"><h1>${escapeHtml(name)}</h1><p>柜子 ${escapeHtml(cabinetId)}</p>
<p>请用微信扫一扫此二维码，在小程序里开门购物。</p><p>Scan this code with WeChat to shop at this cabinet.</p></body></html>
`;
}
