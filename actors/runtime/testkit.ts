import { SimulatedClock } from '../../common/clock';
import { silentLogger, type Logger } from '../../common/log';
import { createActorSystem, spawnActor, type ActorRef, type ActorSystem, type JournalEngine } from './runtime';

/**
 * A probe: an actor that records what it receives, to be used as a reply address or a subscriber in tests.
 */
export interface Probe<M> {
  ref: ActorRef<M>;
  received: M[];
  /** Resolves with the first message (already received or still to come) that matches. */
  expect(match: (m: M) => boolean, timeoutMs?: number): Promise<M>;
}

export function createProbe<M>(system: ActorSystem, id = `probe-${Math.random().toString(36).slice(2, 8)}`): Probe<M> {
  const received: M[] = [];
  const waiters: Array<{ match: (m: M) => boolean; resolve: (m: M) => void }> = [];
  const ref = spawnActor<null, M>(system, {
    id,
    initialState: null,
    receive(state, msg) {
      received.push(msg);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]!;
        if (w.match(msg)) {
          waiters.splice(i, 1);
          w.resolve(msg);
        }
      }
      return state;
    },
  });
  return {
    ref,
    received,
    expect(match, timeoutMs = 2000) {
      const found = received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise<M>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`probe ${id}: no matching message within ${timeoutMs} ms; got ${JSON.stringify(received)}`)), timeoutMs);
        waiters.push({
          match,
          resolve: (m) => {
            clearTimeout(t);
            resolve(m);
          },
        });
      });
    },
  };
}

export interface TestKit {
  system: ActorSystem;
  clock: SimulatedClock;
  probe<M>(id?: string): Probe<M>;
  /** Lets queued actor messages run (nact processes each in its own setImmediate). */
  settle(rounds?: number): Promise<void>;
  stop(): void;
}

export function createTestKit(opts: { journal?: JournalEngine; log?: Logger; start?: number } = {}): TestKit {
  const clock = new SimulatedClock(opts.start);
  const system = createActorSystem({ clock, log: opts.log ?? silentLogger, journal: opts.journal });
  return {
    system,
    clock,
    probe: (id) => createProbe(system, id),
    async settle(rounds = 20) {
      for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
    },
    stop: () => system.stop(),
  };
}
