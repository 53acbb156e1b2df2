import { AppError } from '../../common/errors';
import { silentLogger } from '../../common/log';
import { openTestDb, type TestDb } from '../../test/db';
import { MongooseJournal } from '../../store/journal';
import {
  ActorRegistry,
  ask,
  createActorSystem,
  dispatch,
  drainActors,
  isAlive,
  mailboxDepth,
  spawnActor,
  spawnMachine,
  type ActorRef,
  type Step,
} from '.';
import { createProbe, createTestKit } from './testkit';

type CounterMsg = { type: 'Add'; n: number } | { type: 'Get'; replyTo: ActorRef<number> } | { type: 'Boom' };

function counter(kit: ReturnType<typeof createTestKit>, supervision: 'resume' | 'restart' | 'stop', id = 'counter') {
  return spawnActor<number, CounterMsg>(kit.system, {
    id,
    initialState: 0,
    supervision,
    receive(state, msg) {
      switch (msg.type) {
        case 'Add':
          return state + msg.n;
        case 'Get':
          dispatch(msg.replyTo, state);
          return state;
        case 'Boom':
          throw new Error('boom');
      }
    },
  });
}

describe('actor runtime', () => {
  it('answers an ask through a typed reply ref, one message at a time', async () => {
    const kit = createTestKit();
    const ref = counter(kit, 'resume');
    for (let i = 1; i <= 100; i++) dispatch(ref, { type: 'Add', n: i });
    expect(await ask<CounterMsg, number>(ref, (replyTo) => ({ type: 'Get', replyTo }), 1000)).toBe(5050);
    kit.stop();
  });

  it('rejects an unanswered ask with a TIMEOUT error, and a huge timeout does not fire at once', async () => {
    const kit = createTestKit();
    type M = { type: 'Get'; replyTo: ActorRef<number> } | { type: 'Flush' };
    const held: Array<ActorRef<number>> = [];
    const later = spawnActor<null, M>(kit.system, {
      id: 'later',
      initialState: null,
      receive(s, msg) {
        if (msg.type === 'Get') held.push(msg.replyTo);
        else held.splice(0).forEach((r) => dispatch(r, 42));
        return s;
      },
    });
    const err = await ask<M, number>(later, (replyTo) => ({ type: 'Get', replyTo }), 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('TIMEOUT');
    // 2^32 + 100 ms would wrap to 100 ms inside nact (`| 0`); clamped, it just waits.
    const pending = ask<M, number>(later, (replyTo) => ({ type: 'Get', replyTo }), 2 ** 32 + 100);
    const raced = await Promise.race([pending.then(() => 'answered', () => 'rejected'), new Promise((r) => setTimeout(() => r('still waiting'), 300))]);
    expect(raced).toBe('still waiting');
    dispatch(later, { type: 'Flush' });
    expect(await pending).toBe(42);
    kit.stop();
  });

  it.each([
    ['resume', 3, true],
    ['restart', 0, true],
    ['stop', undefined, false],
  ] as const)('applies the %s policy on a crash', async (policy, after, alive) => {
    const kit = createTestKit();
    const ref = counter(kit, policy, `c-${policy}`);
    dispatch(ref, { type: 'Add', n: 3 });
    dispatch(ref, { type: 'Boom' });
    await kit.settle();
    expect(isAlive(ref)).toBe(alive);
    if (alive) expect(await ask<CounterMsg, number>(ref, (replyTo) => ({ type: 'Get', replyTo }), 1000)).toBe(after);
    kit.stop();
  });

  it('fires scheduled messages on the injected clock only', async () => {
    const kit = createTestKit();
    type M = { type: 'Arm' } | { type: 'Fired' } | { type: 'Get'; replyTo: ActorRef<string[]> };
    const ref = spawnActor<string[], M>(kit.system, {
      id: 'timer',
      initialState: [],
      receive(state, msg, ctx) {
        switch (msg.type) {
          case 'Arm':
            ctx.schedule(30_000, { type: 'Fired' });
            return [...state, 'armed'];
          case 'Fired':
            return [...state, 'fired'];
          case 'Get':
            dispatch(msg.replyTo, state);
            return state;
        }
      },
    });
    dispatch(ref, { type: 'Arm' });
    await kit.settle();
    kit.clock.advance(29_999);
    await kit.settle();
    expect(await ask<M, string[]>(ref, (replyTo) => ({ type: 'Get', replyTo }), 500)).toEqual(['armed']);
    kit.clock.advance(1);
    await kit.settle();
    expect(await ask<M, string[]>(ref, (replyTo) => ({ type: 'Get', replyTo }), 500)).toEqual(['armed', 'fired']);
    kit.stop();
  });

  it('reports mailbox depth while an actor is busy', async () => {
    const kit = createTestKit();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ref = spawnActor<null, { type: 'Work' }>(kit.system, {
      id: 'busy',
      initialState: null,
      async receive(s) {
        await gate;
        return s;
      },
    });
    for (let i = 0; i < 5; i++) dispatch(ref, { type: 'Work' });
    await kit.settle();
    expect(mailboxDepth(ref)).toBe(4);
    release();
    await kit.settle();
    expect(mailboxDepth(ref)).toBe(0);
    kit.stop();
  });

  it('drains: resolves once no actor handles or holds a message, false at its deadline', async () => {
    const kit = createTestKit();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ref = spawnActor<null, { type: 'Work' }>(kit.system, {
      id: 'draining',
      initialState: null,
      async receive(s) {
        await gate;
        return s;
      },
    });
    for (let i = 0; i < 3; i++) dispatch(ref, { type: 'Work' });
    await kit.settle();
    expect(await drainActors(kit.system, 50)).toBe(false);
    const drained = drainActors(kit.system, 5000);
    release();
    expect(await drained).toBe(true);
    expect(mailboxDepth(ref)).toBe(0);
    kit.stop();
  });

  it('does not restart an actor that fails after its system stopped (no crash loop)', async () => {
    const lines: string[] = [];
    const log = { ...silentLogger, warn: (_o: unknown, m?: string) => void lines.push(`warn ${m}`), error: (_o: unknown, m?: string) => void lines.push(`error ${m}`), child: () => log };
    const kit = createTestKit({ log });
    let fail!: (e: Error) => void;
    const pending = new Promise<never>((_r, rej) => (fail = rej));
    let runs = 0;
    const ref = spawnActor<null, { type: 'Write' }>(kit.system, {
      id: 'mid-write',
      initialState: null,
      supervision: 'restart',
      async receive(s) {
        runs++;
        await pending; // a write still in flight when the store closes
        return s;
      },
    });
    dispatch(ref, { type: 'Write' });
    await kit.settle();
    kit.stop();
    fail(new Error('Client must be connected before running operations'));
    await kit.settle();
    expect(runs).toBe(1);
    expect(lines).toEqual(['warn actor failed after the system stopped; not restarted']);
    expect(isAlive(ref)).toBe(false);
  });

  it('routes through a registry that forgets stopped actors', () => {
    const kit = createTestKit();
    const reg = new ActorRegistry<CounterMsg>();
    const ref = counter(kit, 'resume', 'reg-1');
    reg.set('reg-1', ref);
    expect(reg.get('reg-1')).toBe(ref);
    kit.stop();
    expect(reg.get('reg-1')).toBeUndefined();
  });
});

describe('persistent machine actors on the mongoose journal', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb('journal');
  });
  afterAll(() => db.close());

  type Msg = { type: 'Deposit'; fen: number; replyTo?: ActorRef<number> } | { type: 'Get'; replyTo: ActorRef<number> };
  type Effect = { type: 'Reply'; to: ActorRef<number>; value: number };
  const decide = (state: number, msg: Msg): Step<number, Effect> => {
    switch (msg.type) {
      case 'Deposit': {
        const next = state + msg.fen;
        return { state: next, effects: msg.replyTo ? [{ type: 'Reply', to: msg.replyTo, value: next }] : [] };
      }
      case 'Get':
        return { state, effects: [{ type: 'Reply', to: msg.replyTo, value: state }] };
    }
  };
  const spawnWallet = (system: ReturnType<typeof createActorSystem>, key: string) =>
    spawnMachine<number, Msg, Effect>(system, {
      id: key,
      persistenceKey: key,
      initialState: 0,
      decide,
      perform(effects) {
        for (const e of effects) dispatch(e.to, e.value);
      },
    });

  it('recovers its state from the journal after the system is gone, journalling only changes', async () => {
    const journal = new MongooseJournal(db.models);
    const sys1 = createActorSystem({ journal, log: silentLogger });
    const w1 = spawnWallet(sys1, 'wallet-1');
    for (const fen of [100, 250, 5]) await ask<Msg, number>(w1, (replyTo) => ({ type: 'Deposit', fen, replyTo }), 2000);
    expect(await ask<Msg, number>(w1, (replyTo) => ({ type: 'Get', replyTo }), 2000)).toBe(355);
    sys1.stop();
    expect(await journal.count('wallet-1')).toBe(3); // the Get changed nothing and was not journalled

    const sys2 = createActorSystem({ journal, log: silentLogger });
    const w2 = spawnWallet(sys2, 'wallet-1');
    expect(await ask<Msg, number>(w2, (replyTo) => ({ type: 'Get', replyTo }), 2000)).toBe(355);
    sys2.stop();
  });

  it('recovers an actor spawned as fresh without reading the journal, and replays it when spawned again', async () => {
    const inner = new MongooseJournal(db.models);
    const reads: string[] = [];
    const journal = {
      persist: (e: Parameters<MongooseJournal['persist']>[0]) => inner.persist(e),
      takeSnapshot: (s: Parameters<MongooseJournal['takeSnapshot']>[0]) => inner.takeSnapshot(s),
      latestSnapshot: (key: string) => (reads.push(`snapshot:${key}`), inner.latestSnapshot(key)),
      events: (key: string, offset: number) => (reads.push(`events:${key}`), inner.events(key, offset)),
    };
    const sys1 = createActorSystem({ journal, log: silentLogger });
    const fresh = spawnMachine<number, Msg, Effect>(sys1, {
      id: 'wallet-3',
      persistenceKey: 'wallet-3',
      fresh: true,
      initialState: 0,
      decide,
      perform(effects) {
        for (const e of effects) dispatch(e.to, e.value);
      },
    });
    expect(await ask<Msg, number>(fresh, (replyTo) => ({ type: 'Deposit', fen: 7, replyTo }), 2000)).toBe(7);
    expect(reads).toEqual([]);
    expect(await journal.events('wallet-3', 0).reduce((n) => n + 1, 0)).toBe(1);
    sys1.stop();
    reads.length = 0;
    const sys2 = createActorSystem({ journal, log: silentLogger });
    const again = spawnWallet(sys2, 'wallet-3');
    expect(await ask<Msg, number>(again, (replyTo) => ({ type: 'Get', replyTo }), 2000)).toBe(7);
    expect(reads).toEqual(['snapshot:wallet-3', 'events:wallet-3']);
    sys2.stop();
  });

  it('catches a second live owner of one key at its first write', async () => {
    const journal = new MongooseJournal(db.models);
    const failures: unknown[] = [];
    let failed!: () => void;
    const failure = new Promise<void>((r) => (failed = r));
    const sysA = createActorSystem({ journal, log: silentLogger });
    // B recovers as on a busy machine, its first read late: with the order left to chance this is what let
    // B read A's write and succeed (the flaky failure under load).
    const late = { persist: journal.persist.bind(journal), takeSnapshot: journal.takeSnapshot.bind(journal), events: journal.events.bind(journal), latestSnapshot: async (k: string) => (await new Promise((r) => setTimeout(r, 300)), journal.latestSnapshot(k)) };
    const sysB = createActorSystem({ journal: late, log: silentLogger });
    const mk = (system: ReturnType<typeof createActorSystem>) =>
      spawnMachine<number, Msg, Effect>(system, {
        id: 'wallet-2',
        persistenceKey: 'wallet-2',
        initialState: 0,
        decide,
        supervision: 'stop',
        onFailure: (e) => {
          failures.push(e);
          failed();
        },
        perform(effects) {
          for (const e of effects) dispatch(e.to, e.value);
        },
      });
    const a = mk(sysA);
    const b = mk(sysB);
    // The race, forced: both owners have recovered the (empty) journal before either writes — an answered
    // Get comes only after recovery. Left to the scheduler, B's recovery could run after A's write (a busy
    // machine), read it, and then B's own write would rightly succeed as the next event.
    expect(await ask<Msg, number>(a, (replyTo) => ({ type: 'Get', replyTo }), 5000)).toBe(0);
    expect(await ask<Msg, number>(b, (replyTo) => ({ type: 'Get', replyTo }), 5000)).toBe(0);
    expect(await ask<Msg, number>(a, (replyTo) => ({ type: 'Deposit', fen: 1, replyTo }), 5000)).toBe(1);
    dispatch(b, { type: 'Deposit', fen: 2 });
    await failure; // however long B's write takes
    await new Promise((r) => setImmediate(r)); // the policy's decision is carried out right after onFailure
    expect(failures).toHaveLength(1);
    expect(String((failures[0] as Error).message)).toMatch(/duplicate key|E11000/);
    expect(isAlive(b)).toBe(false);
    expect(await journal.count('wallet-2')).toBe(1);
    sysA.stop();
    sysB.stop();
  });

  it('runs its start-up effects again after a failure resets it, so its timer is armed again', async () => {
    // Found by the FerretDB crash matrix: a reset replays the journal but nothing re-armed the timer that
    // re-drives pending work, so a session left waiting on a failed effect waited until something else wrote.
    const journal = new MongooseJournal(db.models);
    const system = createActorSystem({ journal, log: silentLogger });
    const starts: number[] = [];
    let fail = true;
    const key = `wallet-3-${process.pid}-${Date.now()}`;
    const w = spawnMachine<number, Msg, Effect>(system, {
      id: key,
      persistenceKey: key,
      initialState: 0,
      decide,
      started: (s) => (starts.push(s), []),
      perform(effects) {
        if (fail) {
          fail = false;
          throw new Error('projection failed');
        }
        for (const e of effects) dispatch(e.to, e.value);
      },
    });
    dispatch(w, { type: 'Deposit', fen: 7, replyTo: createProbe<number>(system).ref }); // its reply is the effect that fails
    expect(await ask<Msg, number>(w, (replyTo) => ({ type: 'Get', replyTo }), 5000)).toBe(7); // replayed: journalled before the failure
    await ask<Msg, number>(w, (replyTo) => ({ type: 'Get', replyTo }), 5000); // queued behind the start-up
    expect(starts).toEqual([0, 7]);
    system.stop();
  });
});
