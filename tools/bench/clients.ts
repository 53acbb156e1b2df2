import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { SimCabinetSpec } from '../simulator/cabinet';
import type { ClientReport, FromClients, ToClients } from './bench.ipc';

/** Progress of one client process, as it last reported. */
export interface ClientProcessProgress {
  online: number;
  refused: number;
  connectErrors: number;
}

/**
 * Simulated cabinets in `processes` child processes (clients.proc.ts), dealt round-robin, so the server's
 * process is measured alone. Used by the fleet benchmark and the console feed benchmark.
 */
export function spawnClients(
  cabinets: SimCabinetSpec[],
  o: { url: string; processes: number; statusIntervalMs: number; connectRate: number; maxConnecting: number; seed: number; ackTimeoutMs?: number },
): { children: ChildProcess[]; progress: Map<ChildProcess, ClientProcessProgress>; online(): number } {
  const k = Math.max(1, o.processes);
  const children: ChildProcess[] = [];
  const progress = new Map<ChildProcess, ClientProcessProgress>();
  for (let i = 0; i < k; i++) {
    const share = cabinets.filter((_, j) => j % k === i);
    const child = fork(join(__dirname, 'clients.proc.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m: FromClients) => {
      if (m.type === 'progress') progress.set(child, { online: m.online, refused: m.refused, connectErrors: m.connectErrors });
    });
    child.send({ type: 'start', url: o.url, cabinets: share, statusIntervalMs: o.statusIntervalMs, connectRate: Math.max(1, Math.round(o.connectRate / k)), maxConnecting: Math.max(1, Math.round(o.maxConnecting / k)), ackTimeoutMs: o.ackTimeoutMs ?? 10_000, seed: o.seed + i } satisfies ToClients);
    children.push(child);
  }
  return { children, progress, online: () => [...progress.values()].reduce((a, x) => a + x.online, 0) };
}

/** Asks one client process for its counters and figures. */
export function report(child: ChildProcess): Promise<ClientReport> {
  return new Promise((resolve) => {
    const on = (m: FromClients): void => {
      if (m.type !== 'report') return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send({ type: 'report' } satisfies ToClients);
  });
}

/** Stops the client processes (their cabinets disconnect), killing any that linger. */
export async function stopClients(children: ChildProcess[]): Promise<void> {
  for (const c of children) c.send({ type: 'stop' } satisfies ToClients);
  await new Promise((r) => setTimeout(r, 500));
  for (const c of children) if (c.exitCode === null) c.kill();
}
