import { filter, firstValueFrom, timeout } from 'rxjs';
import { SecretBox } from '../../common/sealing';
import { MongooseFleetStore } from '../../store/fleet.store';
import { MongooseJournal } from '../../store/journal';
import { openTestDb, type TestDb } from '../../test/db';
import type { Ack } from '../../contracts/cabinet-protocol';
import { createTestKit, dispatch } from '../runtime';
import { Fleet } from './fleet';

/**
 * A fleet stopped dead (its actor system gone, the store kept) and started again on the same store and
 * journal: what a SIGKILL of the service leaves behind, reached here deterministically.
 */
describe('fleet recovery after a kill', () => {
  let db: TestDb;
  const box = new SecretBox(SecretBox.generateKeyHex());
  beforeAll(async () => {
    db = await openTestDb('fleet_recovery');
    for (const id of ['RC-02', 'RC-03']) await db.models.Cabinet.create({ cabinetId: id, name: id, kind: 'auto', siteId: 'site-1', cameras: ['top'], lanes: [{ laneId: 'A1', sku: 'COLA', capacity: 6, count: 6 }], secret: box.seal('s', `cabinet:${id}`), disabled: false });
    await db.models.Cabinet.create({ cabinetId: 'RC-01', name: 'RC-01', kind: 'auto', siteId: 'site-1', cameras: ['top', 'side'], lanes: [{ laneId: 'A1', sku: 'COLA', capacity: 6, count: 6 }], secret: box.seal('s', 'cabinet:RC-01'), disabled: false });
  });
  afterAll(() => db.close());

  /** `awaited`: the visit whose evidence to wait for (others, recovered from earlier tests, are let pass). */
  const start = async (store: MongooseFleetStore = new MongooseFleetStore(db.models), awaited?: string) => {
    const kit = createTestKit({ journal: new MongooseJournal(db.models), start: Date.now() });
    const fleet = new Fleet({ system: kit.system, store, devices: { sendUnlock: async () => ({ ok: true }) } });
    // Subscribed before visits are resumed (as recognition is in the service).
    const evidence = firstValueFrom(fleet.evidence$.pipe(filter((e) => !awaited || e.visit.visitId === awaited), timeout(15_000)));
    evidence.catch(() => undefined);
    await fleet.loadDirectory();
    fleet.resumeVisits();
    return { kit, fleet, evidence };
  };
  const frame = (visitId: string, camera: string, seq: number) => ({ visitId, camera, seq, ts: Date.now(), phase: seq ? ('after' as const) : ('before' as const), jpeg: Buffer.from([0xff, 0xd8, seq, 0xff, 0xd9]) });

  it('completes, at start-up, a visit whose frames were all stored and announced when the service died', async () => {
    const a = await start();
    await a.fleet.deviceConnected('RC-01', 'conn-1', 'fw');
    await a.fleet.status('RC-01', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 });
    const unlock = await a.fleet.requestUnlock('RC-01', { purpose: 'shopping', shopperId: 'S1' });
    if (!unlock.ok) throw new Error(unlock.reason);
    const { visitId } = unlock;
    await a.fleet.door('RC-01', { ts: Date.now(), state: 'opened', visitId });
    await a.fleet.door('RC-01', { ts: Date.now(), state: 'closed', visitId });
    for (const [cam, seq] of [['top', 0], ['top', 1], ['side', 0], ['side', 1]] as const) expect(await a.fleet.frame('RC-01', frame(visitId, cam, seq))).toEqual({ ok: true });
    // upload.done is journalled and acknowledged, and the process dies the moment the ack leaves: before the
    // visit has counted its frames against it.
    const ref = (await a.fleet.visit(visitId))!;
    const acked = new Promise<Ack>((resolve) =>
      dispatch(ref, {
        type: 'UploadDone',
        frames: { top: 2, side: 2 },
        ack: (ack) => {
          a.kit.stop();
          resolve(ack);
        },
      }),
    );
    expect(await acked).toEqual({ ok: true });
    await a.kit.settle();
    expect(await db.models.Visit.findOne({ _id: visitId }).lean()).toMatchObject({ status: 'closed', expectedFrames: { top: 2, side: 2 } });

    const b = await start();
    try {
      // The device sends nothing more (it was told all arrived); recovery alone must finish the evidence.
      const evidence = await b.evidence;
      expect(evidence.visit.visitId).toBe(visitId);
      expect(evidence.frames.map((f) => `${f.camera}:${f.seq}`)).toEqual(['side:0', 'side:1', 'top:0', 'top:1']);
      expect(await b.fleet.visitView(visitId)).toMatchObject({ status: 'complete', receivedFrames: { top: 2, side: 2 } });
      // The cabinet does not wait for that visit any more.
      await b.fleet.deviceConnected('RC-01', 'conn-2', 'fw');
      const ref = await b.fleet.cabinet('RC-01');
      expect(ref).toBeDefined();
      await b.kit.settle();
      expect(b.fleet.view('RC-01')).toMatchObject({ state: 'idle' });
      expect(b.fleet.view('RC-01')?.visitId).toBeUndefined();
    } finally {
      b.kit.stop();
    }
  });

  /** One item's visit at `cabinetId` up to its upload.done (acknowledged), on the fleet given. */
  const shopAndUpload = async (fleet: Fleet, cabinetId: string): Promise<string> => {
    await fleet.deviceConnected(cabinetId, `conn-${cabinetId}`, 'fw');
    await fleet.status(cabinetId, { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 });
    const unlock = await fleet.requestUnlock(cabinetId, { purpose: 'shopping', shopperId: 'S1' });
    if (!unlock.ok) throw new Error(unlock.reason);
    const { visitId } = unlock;
    await fleet.door(cabinetId, { ts: Date.now(), state: 'opened', visitId });
    await fleet.door(cabinetId, { ts: Date.now(), state: 'closed', visitId });
    for (const seq of [0, 1]) expect(await fleet.frame(cabinetId, frame(visitId, 'top', seq))).toEqual({ ok: true });
    expect(await fleet.uploadDone(cabinetId, { visitId, frames: { top: 2 } })).toEqual({ ok: true });
    return visitId;
  };

  it('hands recognition, at start-up, a visit that journalled its completion but died before projecting it', async () => {
    // Issue H defect 2 as the crash matrix met it (the "uploaded" phase, 1 run in 8): the projection still
    // read `closed`, the journal `complete`; the recovered visit re-projected and nothing asked recognition.
    const dying = new MongooseFleetStore(db.models);
    const killer: { kit?: { stop(): void } } = {};
    const projectVisit = dying.projectVisit.bind(dying);
    let died = false;
    dying.projectVisit = async (view, releaseDoor) => {
      if (view.status === 'complete' && view.cabinetId === 'RC-02') {
        died = true;
        killer.kit?.stop(); // the kill: after the journal entry, before the projection
        return new Promise<void>(() => undefined);
      }
      return projectVisit(view, releaseDoor);
    };
    const a = await start(dying);
    killer.kit = a.kit;
    const visitId = await shopAndUpload(a.fleet, 'RC-02');
    for (let i = 0; i < 200 && !died; i++) await new Promise((r) => setTimeout(r, 20));
    expect(died).toBe(true);
    expect(await db.models.Visit.findOne({ _id: visitId }).lean()).toMatchObject({ status: 'closed', expectedFrames: { top: 2 } });

    const b = await start(undefined, visitId);
    try {
      expect((await b.evidence).visit.visitId).toBe(visitId);
      expect(await db.models.Visit.findOne({ _id: visitId }).lean()).toMatchObject({ status: 'complete' });
    } finally {
      b.kit.stop();
    }
  });

  it('hands recognition, at start-up, a complete visit that recognition never answered', async () => {
    const a = await start();
    const evidence = firstValueFrom(a.fleet.evidence$.pipe(filter((e) => e.visit.visitId.length > 0 && e.visit.cabinetId === 'RC-03'), timeout(15_000)));
    const visitId = await shopAndUpload(a.fleet, 'RC-03');
    expect((await evidence).visit.visitId).toBe(visitId); // nobody recognises it: the process dies
    await a.kit.settle();
    a.kit.stop();
    expect(await db.models.Visit.findOne({ _id: visitId }).lean()).toMatchObject({ status: 'complete' });

    const b = await start(undefined, visitId);
    try {
      const evidence = await b.evidence;
      expect(evidence.visit.visitId).toBe(visitId);
      expect(evidence.frames.map((f) => `${f.camera}:${f.seq}`)).toEqual(['top:0', 'top:1']);
      expect(await b.fleet.recognitionDone(visitId, { status: 'confident', confidence: 0.99, items: [], at: Date.now() } as never)).toBe(true);
    } finally {
      b.kit.stop();
    }
  });
});
