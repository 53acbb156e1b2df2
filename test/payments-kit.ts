import type { ActorSystem } from '../actors/runtime';
import { startTestEmulator, type TestEmulator } from '../payments/emulator/testing';
import { createActorSystem, createPayments, listenForNotifications, type Payments } from '../payments/payment/payments.wiring';
import type { PaymentActorsOptions } from '../payments/payment/payment.actor';
import type { WechatConfigInput } from '../payments/wechatpay/wechat.config';
import { freePort } from '../store/ferretdb';
import { openTestDb, type TestDb } from './db';

/** Payments on their own: a database of their own, an in-process emulator, actors and the notification endpoints. */
export interface PaymentsWorld {
  db: TestDb;
  emu: TestEmulator;
  system: ActorSystem;
  pay: Payments;
  rx: { url: string; close(): Promise<void> };
  port: number;
  /** Drains the emulator's notifications, then stops everything. */
  close(): Promise<void>;
}

export async function startPaymentsWorld(dbPrefix: string, o: { config?: Partial<WechatConfigInput>; actors?: PaymentActorsOptions } = {}): Promise<PaymentsWorld> {
  const db = await openTestDb(dbPrefix);
  const emu = await startTestEmulator({ timeScale: 1000 });
  const port = await freePort();
  const system = createActorSystem();
  const pay = createPayments({ config: emu.config({ notifyBaseUrl: `http://127.0.0.1:${port}`, ...o.config }), models: db.models, system, actorOptions: { resolveAfterMs: 500, ...o.actors } });
  const rx = await listenForNotifications(pay, port);
  return {
    db,
    emu,
    system,
    pay,
    rx,
    port,
    async close() {
      await emu.emulator.notifier.idle();
      await rx.close();
      system.stop();
      await emu.close();
      await db.close();
    },
  };
}
