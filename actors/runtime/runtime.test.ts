import { AppError } from '../../common/errors';
import { silentLogger } from '../../common/log';
import { openTestDb, type TestDb } from '../../test/db';
import { MongooseJournal } from '../../store/journal';
import {
  ActorRegistry,
  ask,
  createActorSystem,
  dispatch,
  isAlive,
  mailboxDepth,
  spawnActor,
  spawnMachine,
  type ActorRef,
  type Step,
} from '.';
import { createTestKit } from './testkit';

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
    const sysA = createActorSystem({ journal, log: silentLogger });
    const sysB = createActorSystem({ journal, log: silentLogger });
    const mk = (system: ReturnType<typeof createActorSystem>) =>
      spawnMachine<number, Msg, Effect>(system, {
        id: 'wallet-2',
        persistenceKey: 'wallet-2',
        initialState: 0,
        decide,
        supervision: 'stop',
        onFailure: (e) => failures.push(e),
        perform(effects) {
          for (const e of effects) dispatch(e.to, e.value);
        },
      });
    const a = mk(sysA);
    const b = mk(sysB);
    await ask<Msg, number>(a, (replyTo) => ({ type: 'Deposit', fen: 1, replyTo }), 2000);
    const second = await ask<Msg, number>(b, (replyTo) => ({ type: 'Deposit', fen: 2, replyTo }), 500).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(AppError);
    expect(failures).toHaveLength(1);
    expect(String((failures[0] as Error).message)).toMatch(/duplicate key|E11000/);
    expect(await journal.count('wallet-2')).toBe(1);
    sysA.stop();
    sysB.stop();
  });
});
