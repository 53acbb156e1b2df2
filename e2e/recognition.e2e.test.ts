import '../vision/testing/ort-realm';
import { connectDevice } from '../test/device-client';
import { startTestService } from '../test/service-kit';
import { DEMO_FLEET } from '../contracts/demo-data';
import type { ShelfLaneState } from '../vision/render/scene';
import { visitFromStates } from '../vision/sim/visits';

jest.setTimeout(90_000);

/**
 * A shopping visit end to end through the real pieces: the device gateway takes the rendered before/after
 * frames, the visit completes on upload.done, the pooled recogniser (real ONNX model) reads them, and the
 * result is recorded on the visit.
 */
describe('visit → recognition → visit', () => {
  it('records what left the cabinet on the visit', async () => {
    const svc = await startTestService({ env: { RECOGNITION_WORKERS: '1' } });
    try {
      const cab = DEMO_FLEET.find((c) => c.cabinetId === 'SH-AUTO-01')!;
      const secret = (await svc.models.Cabinet.findOne({ cabinetId: cab.cabinetId }).lean().then((c) => svc.box.open(c!.secret, `cabinet:${cab.cabinetId}`)))!;
      const dev = await connectDevice({ url: svc.url, cabinetId: cab.cabinetId, secret });
      await dev.emit('status', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 });
      const unlock = await svc.fleet.requestUnlock(cab.cabinetId, { purpose: 'shopping', shopperId: 'S-e2e' });
      if (!unlock.ok) throw new Error(unlock.reason);
      const visitId = unlock.visitId;

      const before: ShelfLaneState[] = cab.lanes.map((l) => ({ ...l, count: l.capacity, slots: Array<string | null>(l.capacity).fill(l.sku) }));
      const after = before.map((l) => (l.laneId === 'B2' ? { ...l, slots: (l.slots ?? []).map((s, i) => (i === 5 ? null : s)) } : l));
      const rendered = await visitFromStates({ seed: 102, before, after });
      const sku = cab.lanes.find((l) => l.laneId === 'B2')!.sku;

      for (const f of rendered.frames.filter((x) => x.phase === 'before')) expect((await dev.emit('frame', { visitId, camera: f.camera, seq: f.seq, ts: f.ts, phase: f.phase, jpeg: f.jpeg })).ok).toBe(true);
      await dev.emit('door', { ts: Date.now(), state: 'opened', visitId });
      await dev.emit('door', { ts: Date.now(), state: 'closed', visitId });
      for (const f of rendered.frames.filter((x) => x.phase === 'after')) expect((await dev.emit('frame', { visitId, camera: f.camera, seq: f.seq, ts: f.ts, phase: f.phase, jpeg: f.jpeg })).ok).toBe(true);
      const perCamera: Record<string, number> = {};
      for (const f of rendered.frames) perCamera[f.camera] = (perCamera[f.camera] ?? 0) + 1;
      expect((await dev.emit('upload.done', { visitId, frames: perCamera })).ok).toBe(true);

      type Recorded = { recognition?: { status: string; items: Array<{ sku: string; qty: number }>; modelVersion: string } } | null;
      const read = async (): Promise<Recorded> => (await svc.models.Visit.findOne({ visitId }).lean()) as Recorded;
      let doc = await read();
      for (let i = 0; i < 300 && !doc?.recognition; i++) {
        await new Promise((r) => setTimeout(r, 100));
        doc = await read();
      }
      expect(doc?.recognition).toMatchObject({ status: 'settled', items: [{ sku, qty: 1 }], modelVersion: expect.stringMatching(/^embedder-/) });
      // The recorded answer ends the visit: a late resend is stored without reviving it.
      expect(svc.fleet.visits.get(visitId)).toBeUndefined();
      dev.close();
    } finally {
      await svc.cleanup();
    }
  });
});
