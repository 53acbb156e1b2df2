import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from '../common/log';

/** Where tools/setup/setup.mjs puts the binary it built (a copy of the per-machine cache). */
export const DEFAULT_FERRETDB_BIN = resolve(__dirname, '..', '.cache', 'bin', 'ferretdb');

export interface FerretDbOptions {
  /** Directory for the SQLite files (one per database); created when missing and kept across restarts. */
  dataDir: string;
  bin?: string;
  /** 0 picks a free loopback port. */
  port?: number;
  log?: Logger;
  readyTimeoutMs?: number;
}

export interface FerretDbHandle {
  readonly uri: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
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

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/**
 * Starts FerretDB (SQLite backend) on a loopback port and resolves once it accepts connections.
 * The child exits by itself if this process dies without stopping it (-exit-with-parent).
 */
export async function startFerretDb(opts: FerretDbOptions): Promise<FerretDbHandle> {
  const bin = opts.bin ?? DEFAULT_FERRETDB_BIN;
  if (!existsSync(bin)) {
    throw new Error(`FerretDB binary not found at ${bin}; run "npm run setup" (or npm start / npm test, which run it).`);
  }
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const timeout = opts.readyTimeoutMs ?? 20_000;

  for (let attempt = 1; ; attempt++) {
    const port = opts.port || (await freePort());
    const child = spawn(
      bin,
      [`-listen-addr=127.0.0.1:${port}`, `-sqlite-url=file:${dataDir}/`, '-log-level=warn', '-exit-with-parent'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DO_NOT_TRACK: '1' } },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
      opts.log?.debug({ ferretdb: d.toString().trim() }, 'ferretdb');
    });
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    let dead = false;
    void exited.then(() => (dead = true));

    const deadline = Date.now() + timeout;
    while (!dead && Date.now() < deadline && !(await canConnect(port))) await new Promise((r) => setTimeout(r, 50));
    if (!dead && Date.now() < deadline) {
      opts.log?.info({ port, dataDir, pid: child.pid }, 'ferretdb started');
      return handle(child, port, exited);
    }
    child.kill('SIGKILL');
    await exited;
    // A port taken between freePort() and the bind is the only failure worth a retry.
    if (!opts.port && attempt < 3 && /address already in use/i.test(stderr)) continue;
    throw new Error(`FerretDB did not start on port ${port}: ${stderr.trim() || 'no output'}`);
  }
}

function handle(child: ChildProcess, port: number, exited: Promise<number | null>): FerretDbHandle {
  let stopping: Promise<void> | undefined;
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    pid: child.pid ?? -1,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
