import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../common/clock';
import { AppError } from '../../common/errors';
import type { RateLimiter, TokenSigner } from '../../common/tokens';
import { API_PREFIX, AppealRequest, CheckoutRequest, LoginRequest, PayDebtsRequest, PhoneRequest, SHOPPER_ROUTES, StartVisitRequest } from '../../contracts/shopper-api';
import { CabinetId } from '../../contracts/domain';
import type { ShopperService } from '../../app/shopper.service';
import type { ShoppingService } from '../../app/shopping.service';

export interface ShopperRouteDeps {
  service: ShopperService;
  shopping: ShoppingService;
  tokens: TokenSigner;
  limiter: RateLimiter;
  clock: Clock;
}

declare module 'fastify' {
  interface FastifyRequest {
    shopperId?: string;
  }
}

const CabinetParams = z.object({ cabinetId: CabinetId });
const SessionParams = z.object({ sessionId: z.string().min(1).max(64) });
const OrderParams = z.object({ orderId: z.string().min(1).max(64) });

/** Shopper API v1 (contracts/shopper-api.ts): bearer auth and a rate limit per shopper on every route but login. */
export function registerShopperRoutes(app: FastifyInstance, deps: ShopperRouteDeps): void {
  const shopperOf = (req: FastifyRequest): string => {
    if (!req.shopperId) throw new AppError('UNAUTHENTICATED');
    return req.shopperId;
  };

  app.register(
    async (api) => {
      api.addHook('onRequest', async (req) => {
        const now = deps.clock.now();
        if (req.url === `${API_PREFIX}${SHOPPER_ROUTES.login.path}`) {
          if (!deps.limiter.allow(`ip:${req.ip}`, now)) throw new AppError('RATE_LIMITED');
          return;
        }
        const h = req.headers.authorization ?? '';
        const sub = h.startsWith('Bearer ') ? deps.tokens.verify(h.slice(7), now) : undefined;
        if (!sub) throw new AppError('UNAUTHENTICATED', 'sign in again: the token is missing, invalid or expired');
        if (!deps.limiter.allow(sub, now)) throw new AppError('RATE_LIMITED');
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
        return shop.checkout(shopperOf(req), { cabinetId: body.cabinetId, lines: body.lines, signContract: body.signContract, ...(body.sessionId ? { sessionId: body.sessionId } : {}) });
      });
      api.get(SHOPPER_ROUTES.debts.path, async (req) => shop.debts(shopperOf(req)));
      api.post(SHOPPER_ROUTES.payDebts.path, async (req) => shop.payDebts(shopperOf(req), PayDebtsRequest.parse(req.body).via));
      api.post(SHOPPER_ROUTES.papaySign.path, async (req) => shop.papaySign(shopperOf(req)));
      api.get(SHOPPER_ROUTES.orders.path, async (req) => shop.orders(shopperOf(req)));
      api.get(SHOPPER_ROUTES.order.path, async (req) => shop.order(shopperOf(req), OrderParams.parse(req.params).orderId));
      api.post(SHOPPER_ROUTES.appeal.path, async (req) => shop.appeal(shopperOf(req), OrderParams.parse(req.params).orderId, AppealRequest.parse(req.body).reason));
    },
    { prefix: API_PREFIX },
  );
}
