import { SimulatedClock } from '../../common/clock';
import { silentLogger } from '../../common/log';
import { LastSeenWriter, type LastSeen } from './last-seen';

const tick = () => new Promise((r) => setImmediate(r));

describe('last-seen writer', () => {
  function setup(o: { fail?: () => boolean; batchSize?: number } = {}) {
    const clock = new SimulatedClock();
    const writes: LastSeen[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const writer = new LastSeenWriter({
      clock,
      log: silentLogger,
      flushEveryMs: 5_000,
      batchSize: o.batchSize ?? 500,
      async write(rows) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await tick();
        inFlight--;
        if (o.fail?.()) throw new Error('database down');
        writes.push(rows);
      },
    });
    return { clock, writes, writer, maxInFlight: () => maxInFlight };
  }

  it('writes 10,000 cabinets gone offline together as a few batches, one at a time, after the flush delay', async () => {
    const { clock, writes, writer, maxInFlight } = setup();
    for (let i = 0; i < 10_000; i++) writer.note({ cabinetId: `C-${i}`, at: 1_000 + i });
    clock.advance(4_999);
    await tick();
    expect(writes).toHaveLength(0);
    clock.advance(1);
    while (writer.size) await tick();
    for (let i = 0; i < 30; i++) await tick();
    expect(writes.map((w) => w.length)).toEqual(Array(20).fill(500));
    expect(maxInFlight()).toBe(1);
  });

  it('keeps only the latest time per cabinet', async () => {
    const { writes, writer } = setup();
    writer.note({ cabinetId: 'A', at: 10 });
    writer.note({ cabinetId: 'A', at: 30, firmware: 'fw-2' });
    writer.note({ cabinetId: 'A', at: 20 });
    await writer.flush();
    expect(writes).toEqual([[{ cabinetId: 'A', at: 30, firmware: 'fw-2' }]]);
  });

  it('keeps what a failed write lost for the next flush, unless a newer time came meanwhile', async () => {
    let down = true;
    const { clock, writes, writer } = setup({ fail: () => down });
    writer.note({ cabinetId: 'A', at: 10 });
    writer.note({ cabinetId: 'B', at: 10 });
    const failing = writer.flush();
    writer.note({ cabinetId: 'B', at: 50 });
    await failing;
    expect(writes).toEqual([]);
    down = false;
    clock.advance(5_000);
    await writer.flush();
    expect(writes.flat().sort((x, y) => x.cabinetId.localeCompare(y.cabinetId))).toEqual([
      { cabinetId: 'A', at: 10 },
      { cabinetId: 'B', at: 50 },
    ]);
  });

  it('no longer flushes on its own once closed, but an explicit flush still writes', async () => {
    const { clock, writes, writer } = setup();
    writer.note({ cabinetId: 'A', at: 1 });
    writer.close();
    clock.advance(60_000);
    await tick();
    expect(writes).toEqual([]);
    await writer.flush();
    expect(writes).toEqual([[{ cabinetId: 'A', at: 1 }]]);
  });
});
