import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

/**
 * The cluster's child processes (Redis, HAProxy, service nodes): each spawned with its output prefixed on
 * stderr, waited for until its port answers, and stopped with SIGTERM (SIGKILL after a grace).
 */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

export function startChild(name: string, cmd: string, args: string[], o: { env?: Record<string, string>; quiet?: boolean; onLine?: (line: string) => void } = {}): Child {
  const child: ChildProcess = spawn(cmd, args, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const relay = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      o.onLine?.(line);
      if (!o.quiet) process.stderr.write(`[${name}] ${line}\n`);
    }
  };
  child.stdout?.on('data', relay);
  child.stderr?.on('data', relay);
  return {
    name,
    pid: child.pid ?? -1,
    exited,
    kill: (signal) => void child.kill(signal),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once something accepts TCP connections on the port; throws after `timeoutMs` or when `exited` settles first. */
export async function waitForPort(port: number, o: { timeoutMs: number; exited?: Promise<unknown>; name: string }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let gone = false;
  void o.exited?.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`${o.name} exited before it listened on ${port}`);
    const open = await new Promise<boolean>((res) => {
      const s = connect({ host: '127.0.0.1', port }, () => (s.end(), res(true)));
      s.on('error', () => res(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${o.name} did not listen on ${port} within ${o.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
