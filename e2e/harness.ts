import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
/** One process, as `npm start` runs it, so a signal or a SIGKILL reaches the service itself (not a tsx wrapper). */
const NODE_ARGS = ['--import', 'tsx', 'app/main.ts'];

export interface ServiceProcess {
  child: ChildProcess;
  /** Every JSON log line the service printed so far. */
  logs: Array<Record<string, unknown>>;
  output(): string;
  url: Promise<string>;
  exited: Promise<number | null>;
}

/**
 * Runs `app/main.ts` as a real process with the given environment (plus the inherited one; the demo simulator
 * off unless asked for). `openFiles` sets its open-file limit (`ulimit -n`, soft and hard: Node raises
 * its soft limit to the hard one by itself; the shell execs node, so signals still reach the service).
 */
export function runService(env: Record<string, string>, opts: { openFiles?: number } = {}): ServiceProcess {
  const spawnEnv = { cwd: ROOT, env: { ...process.env, DEMO_SIMULATOR: 'false', ...env }, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'] };
  const child = opts.openFiles
    ? spawn('/bin/sh', ['-c', `ulimit -n ${opts.openFiles} && exec "$0" "$@"`, process.execPath, ...NODE_ARGS], spawnEnv)
    : spawn(process.execPath, NODE_ARGS, spawnEnv);
  const logs: Array<Record<string, unknown>> = [];
  let text = '';
  let resolveUrl!: (u: string) => void;
  let rejectUrl!: (e: Error) => void;
  const url = new Promise<string>((res, rej) => {
    resolveUrl = res;
    rejectUrl = rej;
  });
  let partial = '';
  const onData = (d: Buffer) => {
    text += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) {
        try {
          const row = JSON.parse(line) as Record<string, unknown>;
          logs.push(row);
          if (row.msg === 'service listening' && typeof row.url === 'string') resolveUrl(row.url);
        } catch {
          /* not a log line */
        }
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  void exited.then((code) => rejectUrl(new Error(`service exited (${code}) before listening:\n${text}`)));
  url.catch(() => undefined); // a test that expects the exit need not await the url
  return { child, logs, output: () => text, url, exited };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Reads until `ok` holds (every 200 ms), or fails naming what it waited for with the last value read. */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
