import { createActorSystem, type ActorSystem } from '../../actors/runtime';
import { systemClock, type Clock } from '../../common/clock';
import { silentLogger, type Logger } from '../../common/log';
import type { Models } from '../../store/models';
import { MiniProgramClient } from '../wechatpay/miniprogram.client';
import { serveNotifications } from '../wechatpay/notifications';
import { PapayV2Client } from '../wechatpay/papay.client';
import { WechatPayV3Client, wxFail, type WxResult } from '../wechatpay/v3.client';
import type { WechatConfig } from '../wechatpay/wechat.config';
import { PaymentActors, type PaymentActorsOptions } from './payment.actor';
import { PaymentService, type PaymentServiceDeps } from './payment.service';

/**
 * Wiring of the payments module, used by the service composition and by tests: clients, service, actors
 * and the notification endpoints on a fastify app.
 */
export interface Payments {
  config: WechatConfig;
  v3: WechatPayV3Client;
  papay: PapayV2Client;
  miniProgram: MiniProgramClient;
  service: PaymentService;
  actors: PaymentActors;
}

export function createPayments(opts: {
  config: WechatConfig;
  models: Models;
  system: ActorSystem;
  clock?: Clock;
  log?: Logger;
  actorOptions?: PaymentActorsOptions;
  afterDeductionSent?: PaymentServiceDeps['afterDeductionSent'];
}): Payments {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? silentLogger;
  const v3 = new WechatPayV3Client({ config: opts.config, clock });
  const papay = new PapayV2Client({ config: opts.config, clock });
  const miniProgram = new MiniProgramClient({ config: opts.config, clock });
  const service = new PaymentService({ models: opts.models, v3, papay, config: opts.config, clock, log, miniProgram, ...(opts.afterDeductionSent ? { afterDeductionSent: opts.afterDeductionSent } : {}) });
  const actors = new PaymentActors(opts.system, service, opts.actorOptions);
  return { config: opts.config, v3, papay, miniProgram, service, actors };
}

/**
 * The payment actors with WeChat off (WECHAT_MODE=off): the one owner of money state still, so operator
 * decisions that need no WeChat call (a pending order, a waiver, a netted difference) are carried out;
 * whatever needs WeChat (charges, refunds, closes) answers as a retryable failure (`UNAVAILABLE`).
 */
export function createOfflinePayments(opts: { models: Models; system: ActorSystem; clock?: Clock; log?: Logger }): Pick<Payments, 'service' | 'actors'> {
  const off = async (): Promise<WxResult<never>> => wxFail({ outcome: 'rejected', code: 'UNAVAILABLE', message: 'WeChat is off (WECHAT_MODE=off)', retryable: true });
  const offline = new Proxy({}, { get: (_t, name) => (name === 'then' ? undefined : off) });
  const service = new PaymentService({ models: opts.models, v3: offline as never, papay: offline as never, config: { planId: 'offline' } as never, clock: opts.clock ?? systemClock, log: opts.log ?? silentLogger });
  return { service, actors: new PaymentActors(opts.system, service) };
}

/** The notification endpoints on their own loopback server, feeding these payments' actors. */
export function listenForNotifications(p: Payments, port = 0, log: Logger = silentLogger): Promise<{ url: string; close(): Promise<void> }> {
  return serveNotifications({ config: p.config, keys: p.v3.keys, clock: systemClock, sink: p.actors, log }, port);
}

export { createActorSystem };
