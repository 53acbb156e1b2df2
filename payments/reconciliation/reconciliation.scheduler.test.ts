import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { billDateBefore, scheduleReconciliation } from './reconciliation.scheduler';

/** Beijing wall time → epoch ms. */
const bj = (iso: string) => Date.parse(`${iso}+08:00`);
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function harness(start: string, reports: Map<string, 'matched' | 'differences' | 'failed'>, outcome: () => 'matched' | 'failed' = () => 'matched') {
  const clock = new SimulatedClock(bj(start));
  const runs: Array<{ billDate: string; at: string }> = [];
  const stop = scheduleReconciliation({
    clock,
    log: silentLogger,
    async run(billDate) {
      runs.push({ billDate, at: new Date(clock.now() + 8 * 3_600_000).toISOString().slice(0, 16) });
      const status = outcome();
      reports.set(billDate, status);
      return { status };
    },
    reportStatus: async (d) => reports.get(d),
  });
  clock.advance(0); // timers due now fire (a simulated clock only moves when told)
  return { clock, runs, stop };
}

describe('daily reconciliation schedule', () => {
  it('bill date is the previous Beijing day, also just after Beijing midnight (still the day before in UTC)', () => {
    expect(billDateBefore(bj('2026-11-24T00:30:00'))).toBe('2026-11-23');
    expect(billDateBefore(bj('2026-11-24T23:59:00'))).toBe('2026-11-23');
  });

  it('runs at 10:05 Beijing for the day before, once a day', async () => {
    const h = harness('2026-11-24T08:00:00', new Map());
    await settle();
    expect(h.runs).toEqual([]);
    h.clock.advance(2 * 3_600_000 + 5 * 60_000); // 10:05
    await settle();
    h.clock.advance(24 * 3_600_000); // next day 10:05
    await settle();
    h.clock.advance(12 * 3_600_000);
    await settle();
    expect(h.runs).toEqual([
      { billDate: '2026-11-23', at: '2026-11-24T10:05' },
      { billDate: '2026-11-24', at: '2026-11-25T10:05' },
    ]);
    h.stop();
  });

  it('after a restart past 10:05: runs at once if the report is missing, never twice if it exists', async () => {
    const reports = new Map<string, 'matched' | 'differences' | 'failed'>();
    const a = harness('2026-11-24T15:00:00', reports);
    await settle();
    expect(a.runs).toEqual([{ billDate: '2026-11-23', at: '2026-11-24T15:00' }]);
    a.stop();
    const b = harness('2026-11-24T16:00:00', reports);
    await settle();
    b.clock.advance(18 * 3_600_000 + 5 * 60_000); // the next day's 10:05
    await settle();
    await settle();
    expect(b.runs).toEqual([{ billDate: '2026-11-24', at: '2026-11-25T10:05' }]);
    b.stop();
  });

  it('retries a failed run hourly until it succeeds', async () => {
    let n = 0;
    const h = harness('2026-11-24T10:05:00', new Map(), () => (++n < 3 ? 'failed' : 'matched'));
    for (let i = 0; i < 5; i++) {
      await settle();
      h.clock.advance(3_600_000);
    }
    await settle();
    expect(h.runs.map((r) => r.at)).toEqual(['2026-11-24T10:05', '2026-11-24T11:05', '2026-11-24T12:05']);
    h.stop();
  });

  it('in a cluster one node runs the day; another takes over when it never finishes (its lease ran out)', async () => {
    const clock = new SimulatedClock(bj('2026-11-24T10:05:00'));
    const reports = new Map<string, 'matched' | 'failed'>();
    // The lease of common/shared-state JobLeases, by hand: held by the first node to ask for 30 min.
    let holder: { node: string; until: number } | undefined;
    const lead = (node: string) => async () => {
      if (!holder || holder.until <= clock.now()) holder = { node, until: clock.now() + 30 * 60_000 };
      return holder.node === node;
    };
    const runs: string[] = [];
    const node = (name: string, finishes: boolean) =>
      scheduleReconciliation({
        clock,
        log: silentLogger,
        leader: lead(name),
        async run(billDate) {
          runs.push(`${name} ${new Date(clock.now() + 8 * 3_600_000).toISOString().slice(11, 16)}`);
          if (finishes) reports.set(billDate, 'matched');
          // A node that dies mid-run never stores the report.
          return { status: finishes ? 'matched' : 'failed' };
        },
        reportStatus: async (d) => reports.get(d),
      });
    const stopA = node('a', false);
    const stopB = node('b', true);
    clock.advance(0);
    await settle();
    expect(runs).toEqual(['a 10:05']);
    stopA(); // a is gone
    for (let i = 0; i < 2; i++) {
      clock.advance(3_600_000);
      await settle();
    }
    expect(runs).toEqual(['a 10:05', 'b 11:05']);
    expect(reports.get('2026-11-23')).toBe('matched');
    stopB();
  });
});
