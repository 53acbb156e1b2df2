import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import type { OrderDoc } from '../../store/models/commerce';
import { MoneyRepository, type NewOrder } from '../../store/money/repository';
import { openTestDb, type TestDb } from '../../test/db';
import { uniqueId } from '../../test/money-kit';
import { PaymentService } from './payment.service';

jest.setTimeout(60_000);

/** A held order after its review, on a real database; releasing needs no WeChat call (the clients are empty). */
describe('releasing a held order', () => {
  let db: TestDb;
  let svc: PaymentService;

  beforeAll(async () => {
    db = await openTestDb('review_release');
    svc = new PaymentService({ models: db.models, v3: {} as never, papay: {} as never, config: { planId: 'plan' } as never, clock: new SimulatedClock(Date.UTC(2026, 11, 3, 4)), log: silentLogger });
  });
  afterAll(async () => db.close());

  const line = (sku: string, fen: number): OrderDoc['lines'][number] => ({ sku, name: sku, qty: 1, unitPriceFen: fen, amountFen: fen });
  async function order(status: NewOrder['status'], totalFen = 900): Promise<string> {
    const orderId = uniqueId('held');
    await new MoneyRepository(db.models).createOrder({ orderId, shopperId: 'shopper-1', cabinetId: 'cab', siteId: 'site', flow: 'auto', source: 'recognition', lines: [line('GUESS', totalFen)], totalFen, status });
    return orderId;
  }
  const stored = (orderId: string) => db.models.Order.findOne({ _id: orderId }).lean();
  const waivers = async (orderId: string) => (await svc.repo.ledgerOf(orderId)).filter((e) => e.kind === 'waiver');

  it('released with lines: a draft to charge, priced at the decided total', async () => {
    const orderId = await order('held_for_review');
    const lines = [line('COLA', 350), line('CHIPS', 300)];
    expect(await svc.releaseHeld(orderId, lines, 650, 'case-1')).toBe('draft');
    expect(await stored(orderId)).toMatchObject({ status: 'draft', source: 'review', totalFen: 650, lines });
    expect(await waivers(orderId)).toEqual([]);
    // Released again (a retried decision): no longer held, not moved.
    const before = await stored(orderId);
    expect(await svc.releaseHeld(orderId, [line('OTHER', 100)], 100, 'case-1')).toBe('draft');
    expect(await stored(orderId)).toEqual(before);
  });

  it('released with nothing: waived, with one waiver entry for what it held', async () => {
    const orderId = await order('held_for_review', 420);
    expect(await svc.releaseHeld(orderId, [], 0, 'case-2')).toBe('waived');
    expect(await stored(orderId)).toMatchObject({ status: 'waived', totalFen: 0, lines: [] });
    expect(await svc.releaseHeld(orderId, [], 0, 'case-2')).toBe('waived');
    expect(await waivers(orderId)).toEqual([expect.objectContaining({ ref: `held:${orderId}`, amountFen: 420, reason: 'review case-2' })]);
  });

  it('an order that is not held is not moved', async () => {
    for (const status of ['draft', 'debt'] as const) {
      const orderId = await order(status);
      const before = await stored(orderId);
      expect(await svc.releaseHeld(orderId, [], 0, 'case-3')).toBe(status);
      expect(await stored(orderId)).toEqual(before);
      expect(await waivers(orderId)).toEqual([]);
    }
    expect(await svc.releaseHeld('no-such-order', [line('A', 1)], 1, 'case-3')).toBeUndefined();
  });
});
