import { MongooseJournal } from '../../store/journal';
import { openTestDb, type TestDb } from '../../test/db';
import { ask, createTestKit, dispatch } from '../runtime';
import { spawnSession, type SessionPorts } from './session.actor';
import { initialDoorSession } from './session.machine';
import type { ChargeOutcome, SessionMsg, SessionView, VisitSnapshot } from './session.protocol';

/** Ports that record what the session asked for and answer from scripted values. */
function fakePorts(o: { charge: ChargeOutcome[]; visit?: VisitSnapshot }) {
  const calls: string[] = [];
  const projected: SessionView[] = [];
  const finished: SessionView[] = [];
  const ports: SessionPorts = {
    project: async (v) => void projected.push(v),
    createVisitOrder: async (_s, orderId, lines) => (calls.push(`order ${orderId} ${JSON.stringify(lines)}`), { totalFen: 350 * lines.reduce((n, l) => n + l.qty, 0) }),
    charge: async (_s, orderId, total) => (calls.push(`charge ${orderId} ${total}`), { outcome: o.charge.shift() ?? 'accepted' }),
    orderStatus: async () => 'awaiting_payment',
    closeOrder: async () => 'cancelled',
    openReview: async (_s, c) => void calls.push(`review ${c.caseId}`),
    takeStock: async (_c, key) => void calls.push(`stock ${key}`),
    visit: async () => o.visit,
    finished: (v) => void finished.push(v),
  };
  return { ports, calls, projected, finished };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('session actor', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb('session_actor');
  });
  afterAll(() => db.close());

  const initial = (id: string) => initialDoorSession({ sessionId: id, shopperId: 'S1', cabinetId: 'C1', siteId: 'site', flow: 'auto', visitId: `V-${id}`, now: Date.UTC(2026, 10, 24) });
  const get = (ref: Parameters<typeof dispatch<SessionMsg>>[0]) => ask<SessionMsg, SessionView>(ref, (replyTo) => ({ type: 'GetSession', replyTo }), 2000);

  it('charges once the recognised order exists, polls with its timer, and reports when finished', async () => {
    const kit = createTestKit();
    const f = fakePorts({ charge: ['accepted', 'paid'] });
    const ref = spawnSession(kit.system, initial('a1'), f.ports);
    dispatch(ref, { type: 'VisitObserved', visit: { visitId: 'V-a1', status: 'complete', recognition: { status: 'settled', confidence: 0.99, items: [{ sku: 'COLA', qty: 2, confidence: 0.99 }] } } });
    await kit.settle(50);
    expect(f.calls).toEqual(['stock visit:V-a1', 'order OV-a1 [{"sku":"COLA","qty":2}]', 'charge OV-a1 700']);
    expect((await get(ref)).status).toBe('charging');
    // The deduction settles later: the timer re-asks (idempotently) until it is paid.
    kit.clock.advance(2_000);
    await kit.settle(50);
    expect(f.calls.filter((c) => c.startsWith('charge'))).toHaveLength(2);
    expect(f.finished).toEqual([expect.objectContaining({ status: 'charged', finished: true })]);
    expect(f.projected.at(-1)).toMatchObject({ status: 'charged', finished: true });
    kit.stop();
  });

  it('resumes from its journal after a restart and re-drives the charge it was waiting for', async () => {
    const journal = new MongooseJournal(db.models);
    const kit1 = createTestKit({ journal });
    const f1 = fakePorts({ charge: ['error'] });
    const ref1 = spawnSession(kit1.system, initial('b1'), f1.ports);
    dispatch(ref1, { type: 'VisitObserved', visit: { visitId: 'V-b1', status: 'open' } });
    dispatch(ref1, { type: 'VisitObserved', visit: { visitId: 'V-b1', status: 'complete', recognition: { status: 'settled', confidence: 0.99, items: [{ sku: 'COLA', qty: 1, confidence: 0.99 }] } } });
    for (let i = 0; i < 250 && (await get(ref1)).orderId === undefined; i++) await sleep(20);
    expect(await get(ref1)).toMatchObject({ status: 'charging', orderId: 'OV-b1', totalFen: 350 });
    kit1.stop(); // the process dies mid-charge

    const kit2 = createTestKit({ journal });
    const f2 = fakePorts({ charge: ['paid'] });
    const ref2 = spawnSession(kit2.system, initial('b1'), f2.ports);
    // Its re-armed timer (due at once) drives it on.
    for (let i = 0; i < 250 && f2.finished.length === 0; i++) {
      kit2.clock.advance(1);
      await sleep(20); // journal reads and writes are real I/O
    }
    expect(f2.calls).toEqual(['charge OV-b1 350']); // no second order, no second stock movement
    expect(f2.finished).toEqual([expect.objectContaining({ status: 'charged', orderId: 'OV-b1' })]);
    expect((await get(ref2)).status).toBe('charged');
    kit2.stop();
  });

  it('a projection that meets a database outage loses neither the stock move after it nor the timer', async () => {
    // Found by the FerretDB crash matrix: the Project effect failed, the actor was reset (replayed from its
    // journal), and the effects after it in that step (the stock move) never ran; nor did its timer run again.
    const journal = new MongooseJournal(db.models);
    const kit = createTestKit({ journal });
    const f = fakePorts({ charge: ['paid'] });
    let failed = 0;
    const project = f.ports.project;
    f.ports.project = async (v) => {
      if (v.status === 'charging' && failed++ === 0) throw Object.assign(new Error('connection 24 to 127.0.0.1:1 closed'), { name: 'MongoNetworkError' });
      return project(v);
    };
    const ref = spawnSession(kit.system, initial('c1'), f.ports);
    dispatch(ref, { type: 'VisitObserved', visit: { visitId: 'V-c1', status: 'complete', recognition: { status: 'settled', confidence: 0.99, items: [{ sku: 'COLA', qty: 1, confidence: 0.99 }] } } });
    for (let i = 0; i < 250 && f.finished.length === 0; i++) {
      kit.clock.advance(500);
      await sleep(20);
    }
    expect(failed).toBeGreaterThan(0);
    expect(f.calls.filter((c) => c.startsWith('stock'))).toEqual(['stock visit:V-c1']);
    expect(f.finished).toEqual([expect.objectContaining({ status: 'charged', orderId: 'OV-c1' })]);
    kit.stop();
  });
});
