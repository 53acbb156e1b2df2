import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDevice, fakeJpeg } from '../test/device-client';
import { runService } from './harness';

jest.setTimeout(90_000);

describe('a visit survives a kill of the service between door closed and upload.done', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-crash-'));
  const env = {
    DATA_DIR: dir,
    PORT: '0',
    MONGODB_URI: process.env.TEST_MONGODB_URI as string,
    DB_NAME: `crash_${randomBytes(4).toString('hex')}`,
    ADMIN_TOKEN: randomBytes(16).toString('hex'),
    SEED_DEMO: 'false',
    LOG_LEVEL: 'info',
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const api = (url: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });

  it('completes after restart when the frames arrive', async () => {
    const a = runService(env);
    const urlA = await a.url;
    const prov = await api(urlA, '/admin/cabinets', { cabinetId: 'CRASH-01', name: 'crash', kind: 'auto', siteId: 'lab', cameras: ['top', 'side'] });
    expect(prov.status).toBe(201);
    const { secret } = (await prov.json()) as { secret: string };

    const dev = await connectDevice({ url: urlA, cabinetId: 'CRASH-01', secret });
    await dev.emit('status', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 });
    const unlock = await api(urlA, '/admin/cabinets/CRASH-01/restock-unlock', { operatorId: 'op-1' });
    expect(unlock.status).toBe(200);
    const { visitId } = (await unlock.json()) as { visitId: string };
    const frame = (camera: string, seq: number, phase: 'before' | 'during' | 'after') => ({ visitId, camera, seq, ts: Date.now(), phase, jpeg: fakeJpeg(`${camera}-${seq}`) });
    for (const cam of ['top', 'side']) expect((await dev.emit('frame', frame(cam, 0, 'before'))).ok).toBe(true);
    expect((await dev.emit('door', { ts: Date.now(), state: 'opened', visitId })).ok).toBe(true);
    expect((await dev.emit('door', { ts: Date.now(), state: 'closed', visitId })).ok).toBe(true);
    // Only the top camera's `after` frame got through before the crash.
    expect((await dev.emit('frame', frame('top', 1, 'after'))).ok).toBe(true);

    a.child.kill('SIGKILL');
    await a.exited;
    dev.close();

    const b = runService(env);
    const urlB = await b.url;
    try {
      const again = await connectDevice({ url: urlB, cabinetId: 'CRASH-01', secret });
      await again.emit('status', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 2 });
      // The cabinet actor recovered its phase from the store: still waiting for this visit's upload.
      const before = (await (await api(urlB, '/admin/cabinets/CRASH-01/live')).json()) as { state: string; visitId?: string };
      expect(before).toMatchObject({ state: 'awaiting_upload', visitId });
      // The device's store-and-forward resends everything it holds, including frames already stored.
      for (const [cam, seq, phase] of [['top', 1, 'after'], ['side', 1, 'after'], ['top', 0, 'before']] as const) {
        expect(await again.emit('frame', frame(cam, seq, phase))).toEqual({ ok: true });
      }
      expect(await again.emit('upload.done', { visitId, frames: { top: 2, side: 2 } })).toEqual({ ok: true });
      let visit: { status?: string; receivedFrames?: Record<string, number> } = {};
      for (let i = 0; i < 100 && visit.status !== 'complete'; i++) {
        visit = (await (await api(urlB, `/admin/visits/${visitId}`)).json()) as typeof visit;
        if (visit.status !== 'complete') await new Promise((r) => setTimeout(r, 50));
      }
      expect(visit).toMatchObject({ status: 'complete', receivedFrames: { top: 2, side: 2 } });
      const live = (await (await api(urlB, '/admin/cabinets/CRASH-01/live')).json()) as { state: string };
      expect(live.state).toBe('idle');
      again.close();
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
    }
  });
});
