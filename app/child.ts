import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/**
 * A TypeScript entry point run as its own node process (no tsx wrapper, so signals reach it) with an IPC
 * channel: the child watches the channel and exits with this process, so nothing outlives the service.
 */
export function spawnTsChild(entry: string, args: readonly string[]): { child: ChildProcess; stop(graceMs: number): Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, entry), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    async stop(graceMs) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(force);
    },
  };
}
