import { CrashWorld, type Firmware } from './crash-kit';
import { until } from './harness';

/**
 * Defect 1 of issue 13: the service is SIGKILLed while an unlock is out (the device has the `unlock` and has
 * not acknowledged it; its answer dies with the link). After a restart on the same data the visit must end
 * and the cabinet take the next shopper, whatever the device did meanwhile: nothing (the unlock window runs
 * out), unlocked and relocked by itself, or unlocked and a shopper took an item — who must then be billed.
 */
jest.setTimeout(180_000);

describe('a kill while unlocking', () => {
  const world = new CrashWorld();
  afterAll(() => world.close());
  // CRASHKIT_DEBUG=1 prints what the service warned about, beside a failure.
  afterEach(() => {
    if (process.env.CRASHKIT_DEBUG) console.log(world.problems().join('\n'));
  });

  it('ends every such visit, frees the cabinet, and bills what was taken', async () => {
    await world.open();
    await world.start();
    const idle = await world.cabinet('UL-IDLE', 'auto');
    const relock = await world.cabinet('UL-RELOCK', 'semi');
    const taken = await world.cabinet('UL-TAKEN', 'auto');
    const all: Firmware[] = [idle, relock, taken];
    for (const d of all) {
      await d.connect();
      d.unlockMode = 'silent';
    }
    const shoppers = await Promise.all(all.map(() => world.shopper({ papay: true })));
    // Each shopper's unlock request is in flight when the service dies (its HTTP call fails then).
    const calls = all.map((d, i) => shoppers[i]!.call('startVisit', { body: { cabinetId: d.cabinetId } }).catch(() => undefined));
    const visitIds = await Promise.all(all.map(async (d) => (await d.unlock()).visitId));
    await world.kill();
    await Promise.all(calls);

    // While the service is down: UL-RELOCK unlocked and nobody opened it; at UL-TAKEN a shopper took an item.
    const lane = taken.stockedLane();
    await relock.door('relocked', visitIds[1]!);
    await taken.before(visitIds[2]!);
    await taken.door('opened', visitIds[2]!);
    taken.take({ laneId: lane.laneId, count: 1 });
    await taken.door('closed', visitIds[2]!);
    await taken.after(visitIds[2]!);

    await world.start();
    for (const d of all) await d.connect();
    for (const d of all) await d.drain();

    // The relocked cabinet takes the next visit at once (no 504 while its recovered visit waits).
    await world.takesNextVisit(relock);
    expect((await world.visit(visitIds[1]!)).status).toBe('relocked');

    // What was taken is recognised, ordered, charged once, and taken off the stock once.
    const models = await world.models();
    const orderId = `O${visitIds[2]}`;
    const session = await until(() => models.Session.findOne({ visitId: visitIds[2] }).lean(), (s) => !!s?.finished, 'the taken visit billed', 90_000);
    expect(session).toMatchObject({ status: 'charged', orderId, shopperId: shoppers[2]!.shopperId });
    const order = await until(() => models.Order.findOne({ _id: orderId }).lean(), (o) => o?.status === 'paid', 'order paid');
    expect(order!.lines.map((l) => [l.sku, l.qty])).toEqual([[lane.sku, 1]]);
    expect(await models.Order.countDocuments({ visitId: visitIds[2] })).toBe(1);
    expect(await world.chargesOf(orderId)).toBe(1);
    const stocked = (await models.Cabinet.findOne({ _id: 'UL-TAKEN' }).lean())!.lanes.find((l) => l.laneId === lane.laneId)!;
    expect(stocked.count).toBe(lane.count);
    await world.takesNextVisit(taken);

    // The device that did nothing: the unlock window runs out, the visit ends relocked, the cabinet is free.
    const ended = await until(() => world.visit(visitIds[0]!), (v) => v.status === 'relocked', 'the unanswered unlock ended', 60_000);
    expect(ended.status).toBe('relocked');
    await world.takesNextVisit(idle);

    // Every shopper session of these visits is over.
    for (const id of visitIds) {
      const s = await until(() => models.Session.findOne({ visitId: id }).lean(), (x) => !!x?.finished, `session of ${id} finished`);
      expect(s?.finished).toBe(true);
    }
    await world.stop();
  });
});
