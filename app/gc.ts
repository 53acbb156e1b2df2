import { setFlagsFromString } from 'node:v8';

/**
 * Garbage-collector settings of the service process, applied once at start-up (before any load).
 *
 * Why: the service holds every cabinet's connection, actor and state (~270 MB live at 10,000 cabinets), and
 * each status message leaves behind objects that live until the cabinet's next one (15 s later), so they are
 * always promoted to the old generation. With V8's defaults a full collection then runs every ~10 s, and its
 * concurrent marking takes both cores of a small host for about half a second: the embedded database starves
 * and unlocks wait behind it (tools/bench/fleet.bench.ts: unlock p99 170–300 ms at 10,000 cabinets and
 * 100 unlocks/s, against 12.8 ms with these settings). Letting the old generation grow to twice its live size
 * before the next full collection (and not running the memory reducer's extra collections when the
 * allocation rate looks low) makes them rare; the price is memory headroom, not live memory.
 */
export interface GcTuning {
  /** Old generation may grow by this percentage of its live size before a full collection; 0 = V8's own. */
  heapGrowingPercent: number;
}

export const DEFAULT_GC_TUNING: GcTuning = { heapGrowingPercent: 100 };

export function applyGcTuning(t: GcTuning): void {
  if (t.heapGrowingPercent <= 0) return;
  setFlagsFromString(`--heap-growing-percent=${t.heapGrowingPercent}`);
  setFlagsFromString('--no-memory-reducer');
}
