import { SimulatedClock } from './clock';
import { retryUntilStored } from './retry-until-stored';

const log = { warn: jest.fn(), info: jest.fn() };

describe('retryUntilStored', () => {
  it('does not throw at the caller when the write fails, and retries with backoff until it succeeds', async () => {
    const clock = new SimulatedClock();
    let calls = 0;
    const write = jest.fn(async () => {
      calls++;
      if (calls < 4) throw new Error('MongoServerSelectionError: database away');
    });
    await expect(retryUntilStored('stock move', write, { clock, log }, { firstDelayMs: 100, maxDelayMs: 1000 })).resolves.toBeUndefined();
    expect(calls).toBe(1);
    for (const ms of [100, 200, 400]) {
      clock.advance(ms - 1);
      await Promise.resolve();
      const before = calls;
      clock.advance(1);
      await new Promise((r) => setImmediate(r));
      expect(calls).toBe(before + 1);
    }
    clock.advance(10_000);
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(4); // succeeded on the 4th try: no more
    expect(log.info).toHaveBeenCalledWith(expect.objectContaining({ tries: 4 }), expect.any(String));
  });

  it('a write that succeeds at once is run once', async () => {
    const clock = new SimulatedClock();
    const write = jest.fn(async () => undefined);
    await retryUntilStored('stock move', write, { clock, log });
    clock.advance(60_000);
    expect(write).toHaveBeenCalledTimes(1);
  });
});
