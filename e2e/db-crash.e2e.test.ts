import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FERRETDB_BIN } from '../store/ferretdb';
import { connectDevice, fakeJpeg, type TestDevice } from '../test/device-client';
import { processAlive, runService, until, type ServiceProcess } from './harness';

/**
 * The embedded database dies or stalls under the real service process (`app/main.ts`, embedded FerretDB):
 * SIGKILL → the service restarts it with backoff and is ready again; SIGSTOP → /readyz still answers 503
 * within its own deadline; a database that cannot be restarted → the service exits non-zero. Throughout,
 * API calls answer 503 UNAVAILABLE at once, and every frame the device had acknowledged is still stored.
 */
jest.setTimeout(240_000);

const dirs: string[] = [];
const running: ServiceProcess[] = [];
afterAll(() => {
  for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * FerretDB behind a wrapper the test steers with marker files: `slow` delays its start by 3 s (a restart
 * that takes a while, so the outage is long enough to watch), `broken` makes it fail (a lost disk).
 */
function start(extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cf-dbcrash-'));
  dirs.push(dir);
  const bin = join(dir, 'ferretdb-wrapper');
  writeFileSync(bin, `#!/bin/sh\nif [ -e "${dir}/broken" ]; then echo "disk gone" >&2; exit 1; fi\nif [ -e "${dir}/slow" ]; then sleep 3; fi\nexec "${DEFAULT_FERRETDB_BIN}" "$@"\n`);
  chmodSync(bin, 0o755);
  const env = { DATA_DIR: join(dir, 'data'), PORT: '0', ADMIN_TOKEN: randomBytes(16).toString('hex'), SEED_DEMO: 'false', WECHAT_MODE: 'off', RECOGNITION_WORKERS: '0', LOG_LEVEL: 'info', FERRETDB_BIN: bin, ...extra };
  const svc = runService(env);
  running.push(svc);
  const mark = (name: 'slow' | 'broken', on: boolean) => (on ? writeFileSync(join(dir, name), '') : rmSync(join(dir, name), { force: true }));
  return { svc, env, mark };
}

async function timed(path: string, url: string, token: string, init: RequestInit = {}): Promise<{ status: number; ms: number; body: { error?: { code: string; message: string } } & Record<string, unknown> }> {
  const t = Date.now();
  const res = await fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers }, signal: AbortSignal.timeout(15_000) });
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  return { status: res.status, ms: Date.now() - t, body };
}

/** The sequence numbers of the top camera's frames the service has stored, read back one by one. */
async function storedFrames(url: string, token: string, visitId: string, upTo: number): Promise<number[]> {
  const found: number[] = [];
  for (let seq = 0; seq < upTo + 2; seq++) {
    const res = await fetch(`${url}/admin/api/v1/frames/${visitId}/top/${seq}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 200 && (await res.arrayBuffer()).byteLength > 0) found.push(seq);
  }
  return found;
}

const ferretPid = (svc: ServiceProcess): number => {
  const rows = svc.logs.filter((l) => l.msg === 'ferretdb started' || l.msg === 'ferretdb restarted');
  return rows[rows.length - 1]!.pid as number;
};

/**
 * Resolves once every thread of `pid` is stopped. SIGSTOP takes effect when each thread next passes through the
 * kernel, which on a loaded machine can take milliseconds after kill() returns: FerretDB answers meanwhile.
 */
async function groupStopped(pid: number): Promise<void> {
  const stopped = () => readdirSync(`/proc/${pid}/task`).every((t) => /^\d+ \(.*\) [Tt] /.test(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8')));
  await until(async () => stopped(), (x) => x, `FerretDB (pid ${pid}) stopped`, 5_000);
}

/** A provisioned cabinet with its device connected, a restock visit open and `n` frames acknowledged. */
async function visitWithFrames(url: string, token: string, n: number): Promise<{ dev: TestDevice; visitId: string; acked: number; frame(seq: number, phase: 'during' | 'after'): Promise<boolean> }> {
  const prov = await timed('/admin/cabinets', url, token, { method: 'POST', body: JSON.stringify({ cabinetId: 'DBK-01', name: 'db crash', kind: 'auto', siteId: 'lab', cameras: ['top'] }) });
  expect(prov.status).toBe(201);
  const dev = await connectDevice({ url, cabinetId: 'DBK-01', secret: prov.body.secret as string });
  await dev.emit('status', { ts: Date.now(), door: 'closed', locked: true, pendingUploads: 0 });
  const unlock = await timed('/admin/cabinets/DBK-01/restock-unlock', url, token, { method: 'POST', body: JSON.stringify({ operatorId: 'op-1' }) });
  expect(unlock.status).toBe(200);
  const visitId = unlock.body.visitId as string;
  let acked = 0;
  const frame = async (seq: number, phase: 'during' | 'after') => {
    const a = await dev.emit('frame', { visitId, camera: 'top', seq, ts: Date.now(), phase, jpeg: fakeJpeg(`top-${seq}`) }).catch(() => ({ ok: false }));
    if (a.ok) acked++;
    return a.ok;
  };
  // The door opens at once: an unlocked door left closed relocks after 15 s, which a loaded machine can reach.
  expect((await dev.emit('door', { ts: Date.now(), state: 'opened', visitId })).ok).toBe(true);
  for (let seq = 0; seq < n; seq++) expect(await frame(seq, 'during')).toBe(true);
  return {
    dev,
    visitId,
    get acked() {
      return acked;
    },
    frame,
  };
}

describe('the embedded database killed, stopped and lost under the real service', () => {
  // A frame written into the outage used to wedge its visit for good (the resend never acknowledged): a write the
  // driver never settled held the write lane. Lane writes now have a deadline (store/cas.ts, store/cas.test.ts).
  it('SIGKILL: API answers 503 at once, FerretDB is restarted with backoff, the service is ready again and nothing acknowledged is lost', async () => {
    const { svc, env, mark } = start();
    const url = await svc.url;
    const token = env.ADMIN_TOKEN;
    const v = await visitWithFrames(url, token, 5);
    const first = ferretPid(svc);

    mark('slow', true);
    process.kill(first, 'SIGKILL');
    // A frame sent into the outage is either stored (the write waited for the database) or not acknowledged.
    const inOutage = v.frame(5, 'during');
    // Until the database is back, a call that needs it is refused at once, never with 500 and never after a
    // long wait. One call every 200 ms, each on its own (a slow one does not hold the next back).
    const during: Array<Promise<{ status: number; ms: number; code?: string }>> = [];
    const ticker = setInterval(() => during.push(timed('/admin/visits/NO-SUCH-VISIT', url, token).then((r) => ({ status: r.status, ms: r.ms, code: r.body.error?.code }))), 200);
    try {
      await until(async () => svc.logs.some((l) => l.msg === 'ferretdb restarted'), (x) => x, 'ferretdb restarted', 30_000);
      mark('slow', false);
      await until(() => timed('/admin/visits/NO-SUCH-VISIT', url, token), (r) => r.status === 404, 'reads answered again', 15_000);
    } finally {
      clearInterval(ticker);
    }
    const answers = await Promise.all(during);
    // A read in flight at the kill is retried by the driver and answered once the database is back (bounded
    // by its server selection timeout); every call after the gate closed is refused at once.
    for (const d of answers) expect(d.status === 404 || (d.status === 503 && d.code === 'UNAVAILABLE')).toBe(true);
    const refused = answers.filter((d) => d.status === 503);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(refused.filter((d) => d.ms > 1000)).toEqual([]);
    expect(Math.max(...answers.map((d) => d.ms))).toBeLessThan(12_000);

    const restarted = svc.logs.find((l) => l.msg === 'ferretdb restarted');
    expect(restarted).toMatchObject({ attempt: 1, restarts: 1, pid: expect.any(Number) });
    expect(restarted!.pid).not.toBe(first);
    expect(processAlive(first)).toBe(false);
    expect(svc.logs.find((l) => l.msg === 'ferretdb exited unexpectedly')).toMatchObject({ signal: 'SIGKILL' });
    await until(async () => (await fetch(`${url}/readyz`)).status, (s) => s === 200, 'ready again');
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^db_restarts_total 1$/m);

    // The visit actor and the device link survived: more frames, the door closed, upload.done, complete.
    // Firmware resends what was not acknowledged.
    if (!(await inOutage)) expect(await until(() => v.frame(5, 'during'), (ok) => ok, 'frame 5 resent', 45_000)).toBe(true);
    expect((await v.dev.emit('door', { ts: Date.now(), state: 'closed', visitId: v.visitId })).ok).toBe(true);
    for (let seq = 6; seq < 8; seq++) expect(await until(() => v.frame(seq, 'after'), (ok) => ok, `frame ${seq} acknowledged`, 45_000)).toBe(true);
    expect(await v.dev.emit('upload.done', { visitId: v.visitId, frames: { top: 8 } })).toEqual({ ok: true });
    const visit = await until(() => timed(`/admin/visits/${v.visitId}`, url, token), (r) => r.body.status === 'complete', 'visit complete');
    expect(visit.body.receivedFrames).toEqual({ top: v.acked });
    expect(v.acked).toBe(8);
    expect(await storedFrames(url, token, v.visitId, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    v.dev.close();

    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
    // The death itself, and at most the frame sent into the outage (answered UNAVAILABLE, resent above); no
    // request failed with 500, no actor crashed.
    const errors = svc.logs.filter((l) => (l.level as number) >= 50).map((l) => l.msg);
    expect(errors.filter((m) => m !== 'frame not stored')).toEqual(['ferretdb exited unexpectedly']);
    expect(errors.filter((m) => m === 'frame not stored').length).toBeLessThanOrEqual(1);
  });

  // Found as a flake (/readyz answered 200 while FerretDB was stopped). Two causes: the readiness check joined a
  // ping answered just before the stop (fixed: only a ping sent after the question counts, store/connection.test.ts
  // "readiness check"); and, on a loaded machine, FerretDB still answering for some milliseconds after kill()
  // returned (measured: pings answered 4-22 ms after it, the process still running), until every one of its
  // threads has stopped. The test now waits for that before it asks.
  it('SIGSTOP: /readyz answers 503 within its deadline, API calls 503 UNAVAILABLE, all is well after SIGCONT', async () => {
    const { svc, env } = start();
    const url = await svc.url;
    const token = env.ADMIN_TOKEN;
    const v = await visitWithFrames(url, token, 3);
    const pid = ferretPid(svc);
    process.kill(pid, 'SIGSTOP');
    try {
      await groupStopped(pid);
      const answers: Array<{ status: number; ms: number }> = [];
      for (let i = 0; i < 5; i++) {
        const r = await timed('/readyz', url, token);
        answers.push({ status: r.status, ms: r.ms });
      }
      expect(answers.map((a) => a.status)).toEqual([503, 503, 503, 503, 503]);
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(2000);
      // The gate closes after two missed probes: from then on calls are refused at once.
      const refused = await until(() => timed('/admin/visits/NO-SUCH-VISIT', url, token), (r) => r.status === 503, 'API refused while stopped', 10_000);
      expect(refused.body.error?.code).toBe('UNAVAILABLE');
      expect(refused.ms).toBeLessThan(1000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until(async () => (await fetch(`${url}/readyz`)).status, (s) => s === 200, 'ready after SIGCONT');
    expect(await v.frame(3, 'during')).toBe(true);
    expect(await storedFrames(url, token, v.visitId, 4)).toEqual([0, 1, 2, 3]);
    expect(svc.logs.find((l) => l.msg === 'ferretdb restarted')).toBeUndefined();
    v.dev.close();
    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
  });

  it('exits non-zero when the database cannot be restarted, so a supervisor restarts the service', async () => {
    const { svc, mark } = start();
    const url = await svc.url;
    mark('broken', true);
    process.kill(ferretPid(svc), 'SIGKILL');
    const code = await Promise.race([svc.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 60_000))]);
    expect(code).toBe(1);
    expect(svc.logs.filter((l) => l.msg === 'ferretdb restart failed').length).toBeGreaterThanOrEqual(3);
    expect(svc.logs.find((l) => l.msg === 'ferretdb could not be restarted; giving up')).toBeTruthy();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
