import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * Where the time of a benchmark's measured window goes, for the README's "why the target is not met": the
 * CPU the bench process (service + in-process WeChat emulator) and the database process used over the
 * window (from /proc, so it needs Linux), and, with `cpuProfile`, a V8 CPU profile of the bench process over
 * the same window, summed by package.
 */
export interface WindowProfile {
  wallMs: number;
  /** CPU of this process and of the database process, as % of one core over the window. */
  benchCpuPercent: number;
  databaseCpuPercent: number | null;
  /** Share of this process's sampled time by package (top entries), with `cpuProfile`. */
  byPackage?: Array<{ name: string; percent: number }>;
}

const CLK_TCK = 100;

function procCpuMs(pid: number): number | null {
  try {
    // Fields 14 and 15 of /proc/<pid>/stat (utime, stime) in clock ticks; the name (field 2) may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

export async function profileWindow(o: { databasePid: number; cpuProfile?: string }): Promise<{ stop(): Promise<WindowProfile> }> {
  const session = o.cpuProfile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const db0 = procCpuMs(o.databasePid);
  return {
    async stop() {
      const wallMs = Date.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const db1 = procCpuMs(o.databasePid);
      const out: WindowProfile = {
        wallMs,
        benchCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
        databaseCpuPercent: db0 !== null && db1 !== null ? Math.round(((db1 - db0) / wallMs) * 100) : null,
      };
      if (session && o.cpuProfile) {
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        writeFileSync(o.cpuProfile, JSON.stringify(profile));
        out.byPackage = byPackage(profile);
      }
      return out;
    },
  };
}

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
}

/** Sampled time by package (node_modules name, node internals, this repo's top folders, idle, GC). */
function byPackage(p: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }): Array<{ name: string; percent: number }> {
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const sums = new Map<string, number>();
  let total = 0;
  (p.samples ?? []).forEach((id, i) => {
    const f = nodes.get(id)?.callFrame;
    const dt = p.timeDeltas?.[i] ?? 0;
    const url = f?.url ?? '';
    const mod = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
    const name = mod ? mod[1]! : url.startsWith('node:') ? url.split('/').slice(0, 2).join('/') : url.includes('/work/') || url.startsWith('file:') ? `repo ${url.replace(/^.*?\/(actors|app|common|contracts|gateways|payments|store|vision|tools)\//, '$1/').split('/')[0]}` : f?.functionName || 'native';
    sums.set(name, (sums.get(name) ?? 0) + dt);
    total += dt;
  });
  return [...sums]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([name, t]) => ({ name, percent: Number(((t / Math.max(1, total)) * 100).toFixed(1)) }));
}
