import { createTestKit } from '../actors/runtime';
import type { VisitStatus } from '../actors/visit/visit.protocol';
import { silentLogger } from '../common/log';
import { startTestService } from '../test/service-kit';
import { Sessions, adoptedSessionId } from './sessions';

type Svc = Awaited<ReturnType<typeof startTestService>>;

/**
 * Start-up adoption: a shopping visit whose session was never stored (the service died between sending the
 * unlock and the device's answer) gets one, once, so whatever left the cabinet is billed.
 */
describe('sessions at start-up', () => {
  let svc: Svc;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(() => svc.cleanup());

  const visit = (visitId: string, o: { status: VisitStatus; purpose?: 'shopping' | 'restock'; shopperId?: string; recognised?: boolean }) =>
    svc.models.Visit.create({
      _id: visitId,
      visitId,
      cabinetId: 'SH-AUTO-01',
      siteId: 'shanghai-hq',
      purpose: o.purpose ?? 'shopping',
      ...(o.shopperId === undefined ? {} : { shopperId: o.shopperId }),
      status: o.status,
      unlockRequestedAt: new Date(),
      unlockExpiresAt: new Date(Date.now() + 30_000),
      ...(o.recognised ? { recognition: { status: 'settled', items: [], confidence: 1, reasons: [], modelVersion: 'm', at: 1 } } : {}),
    });

  it('adopts running shopping visits without a session, once, and nothing else', async () => {
    await visit('V-orphan-unlocking', { status: 'unlocking', shopperId: 'S-a' });
    await visit('V-orphan-complete', { status: 'complete', shopperId: 'S-b' });
    await visit('V-restock', { status: 'open', purpose: 'restock' });
    await visit('V-over', { status: 'complete', shopperId: 'S-c', recognised: true });
    await visit('V-relocked', { status: 'relocked', shopperId: 'S-d' });
    const kits: Array<ReturnType<typeof createTestKit>> = [];
    const sessions = () => {
      const kit = createTestKit({ start: Date.now() });
      kits.push(kit);
      return new Sessions({ system: kit.system, models: svc.models, fleet: svc.fleet, clock: kit.clock, log: silentLogger });
    };
    const first = sessions();
    expect(await first.start()).toBe(2);
    const adopted = await svc.models.Session.find({ _id: { $in: [adoptedSessionId('V-orphan-unlocking'), adoptedSessionId('V-orphan-complete')] } }).lean();
    expect(adopted.map((s) => [s.visitId, s.shopperId, s.flow]).sort()).toEqual([
      ['V-orphan-complete', 'S-b', 'auto'],
      ['V-orphan-unlocking', 'S-a', 'auto'],
    ]);
    first.close();
    // A second start (another restart) finds their sessions and adopts nothing more.
    const again = sessions();
    await again.start();
    expect(await svc.models.Session.countDocuments({ visitId: { $in: ['V-orphan-unlocking', 'V-orphan-complete', 'V-restock', 'V-over', 'V-relocked'] } })).toBe(2);
    again.close();
    for (const k of kits) k.stop();
  });
});
