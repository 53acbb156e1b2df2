import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from '../common/log';

/** Where tools/setup/setup.mjs puts the binary it built (a copy of the per-machine cache). */
export const DEFAULT_FERRETDB_BIN = resolve(__dirname, '..', '.cache', 'bin', 'ferretdb');

/** Delays before each restart attempt after FerretDB died; once they are used up the supervisor gives up. */
export const DEFAULT_RESTART_BACKOFF_MS: readonly number[] = [250, 500, 1000, 2000, 4000];

export interface FerretDbSupervision {
  /** Delay before restart attempt n (n = index); more failures in a row than entries → give up. */
  backoffMs?: readonly number[];
  /** A process that stayed up this long starts the backoff afresh when it dies (default 10 s). */
  stableMs?: number;
  /** After each successful restart (the same port, so the driver reconnects by itself). */
  onRestart?(info: { pid: number; attempt: number; restarts: number }): void;
  /** Every attempt failed: the database is gone for good and the owner must exit non-zero. */
  onGiveUp?(err: Error): void;
}

export interface FerretDbOptions {
  /** Directory for the SQLite files (one per database); created when missing and kept across restarts. */
  dataDir: string;
  bin?: string;
  /** 0 picks a free loopback port. */
  port?: number;
  log?: Logger;
  readyTimeoutMs?: number;
  /** Restart FerretDB when it exits without being asked to. Without it a death is only logged. */
  supervise?: FerretDbSupervision;
}

export interface FerretDbHandle {
  readonly uri: string;
  readonly port: number;
  /** The pid of the process running now (it changes with every restart). */
  readonly pid: number;
  /** Restarts after an unexpected exit so far. */
  readonly restarts: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. Stops supervision first. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

interface Running {
  child: ChildProcess;
  /** The port this process bound (as it announced it). */
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The line tools/ferretdb/main.go writes once its listener is bound, with the address bound. */
const READY_LINE = /^ferretdb: ready on [^\s:]+:(\d+)$/m;

/**
 * One FerretDB process on `port` (0: a port the kernel picks), resolved once that process says it is
 * listening; rejects (after killing it) otherwise. Readiness is the child's own word, never "something
 * answers on the port": with other databases starting on the machine (a second test run, another service),
 * a port picked beforehand can be taken by one of them, and connecting to it would mean writing into theirs.
 */
async function launch(bin: string, dataDir: string, port: number, timeoutMs: number, log?: Logger): Promise<Running> {
  const child = spawn(
    bin,
    [`-listen-addr=127.0.0.1:${port}`, `-sqlite-url=file:${dataDir}/`, '-log-level=warn', '-exit-with-parent'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DO_NOT_TRACK: '1' } },
  );
  let stderr = '';
  let announced: ((port: number) => void) | undefined;
  const ready = new Promise<number>((r) => (announced = r));
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
    const m = READY_LINE.exec(stderr);
    if (m) announced?.(Number(m[1]));
    log?.debug({ ferretdb: d.toString().trim() }, 'ferretdb');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
  const outcome = await Promise.race([ready, exited.then(() => 'dead' as const), late]);
  clearTimeout(timer);
  if (typeof outcome === 'number') return { child, port: outcome, exited };
  if (outcome === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  throw new Error(`FerretDB did not start on port ${port || '(any)'}: ${stderr.trim() || (outcome === 'late' ? `not ready within ${timeoutMs} ms` : 'no output')}`);
}

/**
 * Starts FerretDB (SQLite backend) on a loopback port and resolves once it accepts connections.
 * The child exits by itself if this process dies without stopping it (-exit-with-parent).
 * With `supervise`, a death the owner did not ask for is restarted on the same port with backoff; SQLite's
 * WAL keeps every committed write across a SIGKILL, and the driver reconnects to the same address by itself.
 */
export async function startFerretDb(opts: FerretDbOptions): Promise<FerretDbHandle> {
  const bin = opts.bin ?? DEFAULT_FERRETDB_BIN;
  if (!existsSync(bin)) {
    throw new Error(`FerretDB binary not found at ${bin}; run "npm run setup" (or npm start / npm test, which run it).`);
  }
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const timeout = opts.readyTimeoutMs ?? 20_000;

  const running = await launch(bin, dataDir, opts.port ?? 0, timeout, opts.log);
  opts.log?.info({ port: running.port, dataDir, pid: running.child.pid }, 'ferretdb started');
  return supervised(running, { bin, dataDir, port: running.port, timeout, log: opts.log, supervise: opts.supervise });
}

function supervised(
  first: Running,
  o: { bin: string; dataDir: string; port: number; timeout: number; log?: Logger; supervise?: FerretDbSupervision },
): FerretDbHandle {
  const backoff = o.supervise?.backoffMs ?? DEFAULT_RESTART_BACKOFF_MS;
  const stableMs = o.supervise?.stableMs ?? 10_000;
  let current = first;
  let upSince = Date.now();
  let failures = 0;
  let restarts = 0;
  let stopping = false;
  let wake: (() => void) | undefined;
  let recovering: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });

  const recover = async (code: number | null, signal: NodeJS.Signals | null) => {
    o.log?.error({ pid: current.child.pid, code, signal }, 'ferretdb exited unexpectedly');
    if (!o.supervise) return;
    if (Date.now() - upSince >= stableMs) failures = 0;
    let last: Error = new Error(`FerretDB exited (code ${code}, signal ${signal})`);
    while (!stopping) {
      if (failures >= backoff.length) {
        o.log?.error({ attempts: failures, err: last.message }, 'ferretdb could not be restarted; giving up');
        o.supervise.onGiveUp?.(last);
        return;
      }
      const delayMs = backoff[failures++]!;
      await sleep(delayMs);
      if (stopping) return;
      try {
        current = await launch(o.bin, o.dataDir, o.port, o.timeout, o.log);
      } catch (e) {
        last = e as Error;
        o.log?.error({ attempt: failures, err: last.message }, 'ferretdb restart failed');
        continue;
      }
      if (stopping) {
        current.child.kill('SIGTERM');
        return;
      }
      upSince = Date.now();
      restarts++;
      o.log?.warn({ pid: current.child.pid, port: o.port, attempt: failures, delayMs, restarts }, 'ferretdb restarted');
      watch(current);
      o.supervise.onRestart?.({ pid: current.child.pid ?? -1, attempt: failures, restarts });
      return;
    }
  };

  const watch = (r: Running) =>
    void r.exited.then(({ code, signal }) => {
      if (stopping || r !== current) return;
      recovering = recover(code, signal);
    });
  watch(first);

  return {
    uri: `mongodb://127.0.0.1:${o.port}/`,
    port: o.port,
    get pid() {
      return current.child.pid ?? -1;
    },
    get restarts() {
      return restarts;
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        wake?.();
        await recovering;
        const { child, exited } = current;
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}
