import { systemClock } from '../common/clock';
import { silentLogger } from '../common/log';
import type { LedgerEntryDoc, LedgerKind, OrderDoc } from '../store/models/commerce';
import { MoneyRepository, type NewOrder } from '../store/money/repository';
import { startTestEmulator, type TestEmulator } from '../payments/emulator/testing';
import type { EmuOrder } from '../payments/emulator/emulator';
import { PaymentService, type PaymentServiceDeps } from '../payments/payment/payment.service';
import { MiniProgramClient } from '../payments/wechatpay/miniprogram.client';
import type { InboundNotification } from '../payments/wechatpay/notifications';
import { PapayV2Client } from '../payments/wechatpay/papay.client';
import { WechatPayV3Client } from '../payments/wechatpay/v3.client';
import type { WechatConfig, WechatConfigInput } from '../payments/wechatpay/wechat.config';
import { openTestDb, type TestDb } from './db';

/**
 * The payment service on its own, for the tests beside each money concern: a database of its own, an
 * in-process WeChat emulator and the real v3 / papay / mini-program clients pointed at it. The emulator sends
 * no notifications: a test delivers the ones it wants (processNotification) or lets a query find the truth.
 */
export interface MoneyWorld {
  db: TestDb;
  emu: TestEmulator;
  config: WechatConfig;
  svc: PaymentService;
  /** Another payment service over the same database and WeChat (another process), with some deps replaced. */
  service(over?: Partial<PaymentServiceDeps>): PaymentService;
  /** A shopper known to us and to WeChat; with `contract`, signed through the papay signing flow. */
  shopper(o?: { contract?: boolean }): Promise<TestShopper>;
  /** A new order of the shopper (draft unless told), its id unique in the run. */
  order(shopperId: string, totalFen: number, o?: { status?: NewOrder['status']; flow?: NewOrder['flow'] }): Promise<string>;
  readOrder(orderId: string): Promise<OrderDoc | undefined>;
  /** The order's ledger entries, of one kind if given. */
  ledger(orderId: string, kind?: LedgerKind): Promise<LedgerEntryDoc[]>;
  /** What WeChat holds for the order: every out_trade_no sent for it (attach = order id). */
  wxOrders(orderId: string): EmuOrder[];
  close(): Promise<void>;
}

export interface TestShopper {
  shopperId: string;
  openid: string;
  contractCode?: string;
  contractId?: string;
}

let seq = 0;
export const uniqueId = (prefix: string): string => `${prefix}-${++seq}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export async function startMoneyWorld(prefix: string, o: { config?: Partial<WechatConfigInput> } = {}): Promise<MoneyWorld> {
  const db = await openTestDb(prefix);
  const emu = await startTestEmulator({ timeScale: 1000 });
  emu.emulator.notificationsEnabled = false;
  const config = emu.config(o.config);
  const deps: PaymentServiceDeps = {
    models: db.models,
    v3: new WechatPayV3Client({ config, clock: systemClock }),
    papay: new PapayV2Client({ config, clock: systemClock }),
    miniProgram: new MiniProgramClient({ config, clock: systemClock }),
    config,
    clock: systemClock,
    log: silentLogger,
  };
  const service = (over: Partial<PaymentServiceDeps> = {}) => new PaymentService({ ...deps, ...over });
  const svc = service();
  const repo = new MoneyRepository(db.models);

  async function shopper(so: { contract?: boolean } = {}): Promise<TestShopper> {
    const shopperId = uniqueId('s');
    const openid = `o${shopperId.replace(/[^A-Za-z0-9]/g, '')}`;
    emu.emulator.ensureUser(openid);
    await db.models.Shopper.create({ shopperId, openid });
    if (!so.contract) return { shopperId, openid };
    const r = await svc.startSigning({ requestId: uniqueId('sign'), shopperId, openid, displayAccount: 'me' });
    if (r.type !== 'SigningPrepared') throw new Error(`signing: ${r.type}`);
    // The shopper signs in WeChat's signing mini-program; WeChat's ADD notification is delivered by hand.
    const res = await fetch(`${emu.baseUrl}/__control/papay/sign`, { method: 'POST', body: JSON.stringify({ openid, extraData: r.extraData }) });
    const { contract_id: contractId } = (await res.json()) as { contract_id: string };
    const add: InboundNotification = { type: 'ContractChanged', change: 'ADD', contractCode: r.contractCode, contractId, openid, planId: config.planId, operateTime: '' };
    const { key } = await svc.recordNotification(add);
    await svc.processNotification(key, add);
    return { shopperId, openid, contractCode: r.contractCode, contractId };
  }

  async function order(shopperId: string, totalFen: number, oo: { status?: NewOrder['status']; flow?: NewOrder['flow'] } = {}): Promise<string> {
    const orderId = uniqueId('o');
    const lines = [{ sku: 'SNACK', name: 'Snack', qty: 1, unitPriceFen: totalFen, amountFen: totalFen }];
    await repo.createOrder({ orderId, shopperId, cabinetId: 'cab-1', siteId: 'site-1', flow: oo.flow ?? 'auto', source: 'recognition', lines, totalFen, status: oo.status ?? 'draft' });
    return orderId;
  }

  return {
    db,
    emu,
    config,
    svc,
    service,
    shopper,
    order,
    readOrder: async (orderId) => (await db.models.Order.findOne({ _id: orderId }).lean()) ?? undefined,
    ledger: async (orderId, kind) => (await repo.ledgerOf(orderId)).filter((e) => !kind || e.kind === kind),
    wxOrders: (orderId) => [...emu.emulator.orders.values()].filter((x) => x.attach === orderId),
    async close() {
      await emu.close();
      await db.close();
    },
  };
}
