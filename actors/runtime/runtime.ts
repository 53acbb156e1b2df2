/**
 * The actor runtime seam: the only code that imports nact. It gives typed refs, `ask` with an explicit
 * timeout, named supervision policies, an injected clock for timers, machine actors (pure `decide` + an
 * effect performer) with optional event-journal persistence, and mailbox introspection.
 *
 * nact traps handled here (see ../../../shared/docs/platform-notes.md):
 * - the default supervisor console.logs and stops: every actor gets a named policy that logs through our logger;
 * - spawnStateless ignores onCrash: it is never used;
 * - timeouts above 2^31−1 ms wrap to 0: every delay is clamped;
 * - every message copies the actor's children map: callers route by their own id → ref map (ActorRegistry),
 *   never through a parent with many children;
 * - ctx.persist / ctx.recovering are untyped: they are wrapped here.
 */
import * as nact from 'nact';
import { clampDelay, systemClock, type Cancel, type Clock } from '../../common/clock';
import { AppError } from '../../common/errors';
import { silentLogger, type Logger } from '../../common/log';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const systemMap = require('nact/lib/system-map') as {
  find(system: string, ref?: unknown): ConcreteActor | undefined;
};
/** What nact keeps per actor (and per system: children only); read for mailbox depth and draining. */
interface ConcreteActor {
  mailbox?: { length: number };
  stopped?: boolean;
  busy?: boolean;
  children?: Map<string, ConcreteActor>;
}

/** A typed reference to an actor that accepts messages of type M. Opaque outside this module. */
export interface ActorRef<M> {
  readonly id: string;
  /** Phantom: makes refs of different message types incompatible. */
  readonly __msg?: (m: M) => void;
}

type NactRef = nact.Ref<unknown> & { system: { name: string }; path?: unknown };
/** Any ref, whatever it accepts (refs are contravariant in their message type). */
export type AnyActorRef = ActorRef<never>;

const toNact = (ref: AnyActorRef): NactRef => (ref as unknown as { nact: NactRef }).nact;
const wrap = <M>(id: string, ref: unknown): ActorRef<M> => ({ id, nact: ref }) as unknown as ActorRef<M>;

/** Where a journal keeps actor events and snapshots (store/journal.ts implements it on mongoose). */
export interface JournalEngine {
  persist(event: { key: string; sequenceNumber: number; data: unknown; tags: string[]; createdAt: number }): Promise<unknown>;
  takeSnapshot(snapshot: { key: string; sequenceNumber: number; data: unknown; createdAt: number }): Promise<unknown>;
  latestSnapshot(key: string): Promise<{ key: string; sequenceNumber: number; data: unknown } | undefined>;
  events(key: string, offset: number, limit?: number, tags?: string[]): { reduce<T>(f: (acc: T, e: { data: unknown; sequenceNumber: number; key: string; isDeleted?: boolean }, index: number) => T, init: T): Promise<T> };
}

export interface ActorSystem {
  readonly name: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Whether actors with a persistence key are journalled (a system without a journal runs them in memory). */
  readonly journalled: boolean;
  /** @internal */ readonly root: unknown;
  /** @internal Persistence keys whose next recovery reads nothing (see MachineDef.fresh). */
  readonly freshKeys: Set<string>;
  /** True once stop() was called: a failing actor is then stopped, never restarted. */
  readonly stopped: boolean;
  stop(): void;
}

let systemSeq = 0;

const NO_EVENTS = { reduce: <T>(_f: unknown, init: T): Promise<T> => Promise.resolve(init) };

/**
 * The journal as nact sees it: a key in `fresh` is recovered without a read (nothing can be stored under it
 * yet), once; any later recovery of it (a restart after a failure) reads the journal as usual.
 */
function withFreshKeys(journal: JournalEngine, fresh: Set<string>): JournalEngine {
  return {
    persist: (e) => journal.persist(e),
    takeSnapshot: (s) => journal.takeSnapshot(s),
    latestSnapshot: (key) => (fresh.has(key) ? Promise.resolve(undefined) : journal.latestSnapshot(key)),
    events(key, offset, limit, tags) {
      if (fresh.delete(key)) return NO_EVENTS;
      return journal.events(key, offset, limit, tags);
    },
  };
}

export function createActorSystem(opts: { name?: string; clock?: Clock; log?: Logger; journal?: JournalEngine } = {}): ActorSystem {
  const name = opts.name ?? `fleet-${process.pid}-${++systemSeq}`;
  const freshKeys = new Set<string>();
  const plugins: unknown[] = [];
  if (opts.journal) plugins.push(nact.configurePersistence(withFreshKeys(opts.journal, freshKeys) as never));
  const root = (nact.start as (...args: unknown[]) => unknown)({ name }, ...plugins);
  let stopped = false;
  return {
    name,
    clock: opts.clock ?? systemClock,
    log: opts.log ?? silentLogger,
    journalled: !!opts.journal,
    root,
    freshKeys,
    get stopped() {
      return stopped;
    },
    stop: () => {
      stopped = true;
      nact.stop(root as never);
    },
  };
}

/** Whether any actor of the system is handling a message, recovering, or has messages waiting. */
function anyActorBusy(system: ActorSystem): boolean {
  const pending: ConcreteActor[] = [...(systemMap.find(system.name)?.children?.values() ?? [])];
  for (let a = pending.pop(); a; a = pending.pop()) {
    if (!a.stopped && (a.busy || (a.mailbox?.length ?? 0) > 0)) return true;
    if (a.children?.size) pending.push(...a.children.values());
  }
  return false;
}

/**
 * Waits until no actor of the system holds work: nothing handled, recovered or queued, seen on two checks in
 * a row (a handler that just ended may have dispatched to another). Resolves true then, or false at
 * `timeoutMs`. Shutdown calls it after the edges stopped accepting and before the store closes, so no
 * actor is left mid-write when the database goes. Real time, not the system's clock: it bounds a shutdown.
 */
export async function drainActors(system: ActorSystem, timeoutMs: number): Promise<boolean> {
  const deadline = systemClock.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 2) {
    if (systemClock.now() >= deadline) return false;
    quiet = anyActorBusy(system) ? 0 : quiet + 1;
    await new Promise<void>((r) => systemClock.schedule(quiet ? 0 : 10, r));
  }
  return true;
}

/**
 * Supervision policies, named. nact's own default logs to the console and stops.
 * - `resume`: log, drop the failing message, keep the state, go on;
 * - `restart`: log, rebuild the state (a persistent actor replays its journal), go on;
 * - `stop`: log and stop the actor (its refs then drop messages);
 * - `escalate`: hand the failure to the parent's policy.
 */
export type SupervisionPolicy = 'resume' | 'restart' | 'stop' | 'escalate';

function onCrash(policy: SupervisionPolicy, id: string, sys: ActorSystem, onFailure?: (e: unknown, msg: unknown) => void, restarted?: unknown) {
  const log = sys.log;
  return (msg: unknown, err: unknown, ctx: Record<string, symbol> & { self?: unknown }) => {
    // After the system stopped, a restart would recover from a store that is closing: a loop of failures,
    // each logged. What the actor held is persisted (or was never acknowledged); the next start recovers it.
    if (sys.stopped) {
      log.warn({ actor: id, err: err instanceof Error ? err.message : String(err) }, 'actor failed after the system stopped; not restarted');
      return ctx.stop;
    }
    log.error({ actor: id, policy, err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), msgType: (msg as { type?: unknown })?.type }, 'actor failed');
    onFailure?.(err, msg);
    switch (policy) {
      case 'resume':
        return ctx.resume;
      case 'restart':
        // A reset replays the journal but runs no start-up effects: without `restarted` queued behind the
        // replay, a machine's timer (its only re-drive of pending work) is never armed again.
        if (restarted !== undefined && ctx.self) nact.dispatch(ctx.self as never, restarted as never);
        return ctx.reset;
      case 'stop':
        return ctx.stop;
      case 'escalate':
        return ctx.escalate;
    }
  };
}

/** What an actor's handler sees besides its state and message. */
export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly id: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Sends msg to self after ms (clamped to 2^31−1); cancelled when the actor stops. */
  schedule(ms: number, msg: M): Cancel;
}

export interface ActorDef<S, M> {
  id: string;
  initialState: S;
  receive(state: S, msg: M, ctx: ActorContext<M>): S | Promise<S>;
  supervision?: SupervisionPolicy;
  /** Called after a failure was handled by the policy (for metrics or to fail pending requests). */
  onFailure?: (e: unknown, msg: unknown) => void;
}

type Parent = ActorSystem | AnyActorRef;
const nactParent = (p: Parent): unknown => ('root' in p ? p.root : toNact(p as AnyActorRef));
const systemOf = (p: Parent, fallback?: ActorSystem): ActorSystem => ('root' in p ? p : (fallback as ActorSystem));

function makeContext<M>(id: string, self: () => ActorRef<M>, system: ActorSystem, timers: Set<Cancel>): ActorContext<M> {
  return {
    get self() {
      return self();
    },
    id,
    clock: system.clock,
    log: system.log,
    schedule(ms, msg) {
      const cancel = system.clock.schedule(clampDelay(ms), () => {
        timers.delete(cancel);
        dispatch(self(), msg);
      });
      timers.add(cancel);
      return () => {
        timers.delete(cancel);
        cancel();
      };
    },
  };
}

/** Spawns a plain (in-memory) actor. `system` must be given when spawning under another actor. */
export function spawnActor<S, M>(parent: Parent, def: ActorDef<S, M>, system?: ActorSystem): ActorRef<M> {
  const sys = systemOf(parent, system);
  const timers = new Set<Cancel>();
  const self: { ref?: ActorRef<M> } = {};
  const ctx = makeContext<M>(def.id, () => self.ref as ActorRef<M>, sys, timers);
  const n = nact.spawn(
    nactParent(parent) as never,
    (state: S, msg: M) => def.receive(state, msg, ctx),
    def.id,
    {
      initialState: def.initialState,
      onCrash: onCrash(def.supervision ?? 'resume', def.id, sys, def.onFailure) as never,
      afterStop: () => timers.forEach((c) => c()),
    } as never,
  );
  self.ref = wrap<M>(def.id, n);
  return self.ref;
}

/** Result of a pure machine step. */
export interface Step<S, F> {
  state: S;
  effects: F[];
}

/** Internal message every machine actor receives once, after recovery, before anything else. */
const STARTED = { type: '__started__' } as const;
/** Queued by the supervisor behind the replay of a reset: start-up effects again, told it is a restart. */
const RESTARTED = { type: '__restarted__' } as const;

export interface MachineDef<S, M, F> {
  id: string;
  initialState: S;
  /** Pure. Must return the *same* state object when nothing changed: only changes are journalled. */
  decide(state: S, msg: M, now: number): Step<S, F>;
  /** Performs effects after the change they follow is persisted. May dispatch results back to ctx.self. */
  perform(effects: F[], ctx: ActorContext<M>, state: S): void | Promise<void>;
  /** Effects to run once the actor is up (after journal recovery; again after a reset replayed it): re-arm timers, resync devices. */
  started?(state: S, now: number, info: { restarted: boolean }): F[];
  supervision?: SupervisionPolicy;
  onFailure?: (e: unknown, msg: unknown) => void;
  /** Journal persistence: the key the events are stored under. Without it the actor is in-memory only. */
  persistenceKey?: string;
  /**
   * The key has never been written: the caller has just created what it names (e.g. a visit whose record was
   * inserted under a unique id). Recovery then reads nothing — a journal lookup by key is a collection scan on
   * FerretDB v1 — while a restart after a failure still replays the journal. The unique (key, sequence)
   * index still catches a second owner at its first write.
   */
  fresh?: boolean;
  /** Which changes are worth a journal write (default: any change). Telemetry-only changes can opt out. */
  durable?(before: S, after: S, msg: M): boolean;
  snapshotEvery?: number;
  /** Strips what must not be journalled (reply refs, binary payloads). Default: drop `replyTo`. */
  encode?(msg: M): unknown;
  decode?(data: unknown): M;
}

interface Journalled {
  m: unknown;
  t: number;
}

/**
 * Spawns an actor whose behaviour is a pure machine. Each message: `decide(state, msg, now)`; if the state
 * changed and the actor is persistent, the message (with `now`) is appended to the journal *before* the
 * effects run — so nothing is acknowledged before it is durable; then `perform(effects)`. On restart the
 * journal is replayed through `decide` (effects are not re-run), then `started()` re-arms what it needs.
 */
export function spawnMachine<S, M, F>(parent: Parent, def: MachineDef<S, M, F>, system?: ActorSystem): ActorRef<M> {
  const sys = systemOf(parent, system);
  const timers = new Set<Cancel>();
  const self: { ref?: ActorRef<M> } = {};
  const ctx = makeContext<M>(def.id, () => self.ref as ActorRef<M>, sys, timers);
  const encode = def.encode ?? ((m: M) => stripReply(m));
  const decode = def.decode ?? ((d: unknown) => d as M);

  const f = async (state: S, raw: unknown, nctx: { recovering?: boolean; persist?: (e: unknown) => Promise<void> }): Promise<S> => {
    if (nctx.recovering) {
      const j = raw as Journalled;
      return def.decide(state, decode(j.m), j.t).state;
    }
    if (raw === STARTED || raw === RESTARTED) {
      const effects = def.started?.(state, sys.clock.now(), { restarted: raw === RESTARTED }) ?? [];
      if (effects.length) await def.perform(effects, ctx, state);
      return state;
    }
    const now = sys.clock.now();
    const step = def.decide(state, raw as M, now);
    if (step.state !== state && def.persistenceKey && nctx.persist && (def.durable?.(state, step.state, raw as M) ?? true)) {
      await nctx.persist({ m: encode(raw as M), t: now } satisfies Journalled);
    }
    if (step.effects.length) await def.perform(step.effects, ctx, step.state);
    return step.state;
  };

  const props = {
    initialState: def.initialState,
    onCrash: onCrash(def.supervision ?? 'restart', def.id, sys, def.onFailure, RESTARTED) as never,
    afterStop: () => timers.forEach((c) => c()),
  };
  // nact's persistent actor without a persistence engine fails on every message (a crash loop): in a system
  // without a journal the actor simply runs in memory.
  if (def.fresh && def.persistenceKey && sys.journalled) sys.freshKeys.add(def.persistenceKey);
  const n = def.persistenceKey && sys.journalled
    ? nact.spawnPersistent(nactParent(parent) as never, f as never, def.persistenceKey, def.id, {
        ...props,
        ...(def.snapshotEvery ? { snapshotEvery: def.snapshotEvery } : {}),
      } as never)
    : nact.spawn(nactParent(parent) as never, f as never, def.id, props as never);
  self.ref = wrap<M>(def.id, n);
  nact.dispatch(n as never, STARTED as never);
  return self.ref;
}

function stripReply<M>(m: M): unknown {
  if (m && typeof m === 'object' && 'replyTo' in (m as object)) {
    const { replyTo: _r, ...rest } = m as Record<string, unknown>;
    return rest;
  }
  return m;
}

/** Fire-and-forget. A message to a stopped actor is dropped (nact semantics). */
export function dispatch<M>(ref: ActorRef<M>, msg: M): void {
  nact.dispatch(toNact(ref) as never, msg as never);
}

/**
 * Dispatches unless the target's mailbox already holds `limit` messages; returns whether it was accepted.
 * nact mailboxes are unbounded, so producers that can outrun an actor (device traffic) use this.
 */
export function tryDispatch<M>(ref: ActorRef<M>, msg: M, limit: number): boolean {
  if (mailboxDepth(ref) >= limit) return false;
  dispatch(ref, msg);
  return true;
}

/**
 * Request/response: `make` builds the request around a temporary reply ref. Rejects with a TIMEOUT AppError
 * after timeoutMs (clamped), and with UNAVAILABLE if the actor is stopped.
 */
export async function ask<M, R>(ref: ActorRef<M>, make: (replyTo: ActorRef<R>) => M, timeoutMs: number): Promise<R> {
  try {
    return (await nact.query(toNact(ref) as never, ((temp: unknown) => make(wrap<R>('reply', temp))) as never, clampDelay(timeoutMs))) as R;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/Query Timeout/.test(msg)) throw new AppError('TIMEOUT', `${ref.id} did not answer within ${timeoutMs} ms`);
    if (/stopped or never existed/.test(msg)) throw new AppError('UNAVAILABLE', `${ref.id} is not running`);
    throw e;
  }
}

export function stopActor(ref: AnyActorRef): void {
  nact.stop(toNact(ref) as never);
}

/** Messages waiting in the actor's mailbox (0 when idle or stopped). */
export function mailboxDepth(ref: AnyActorRef): number {
  const n = toNact(ref);
  const concrete = systemMap.find(n.system.name, n);
  return concrete?.mailbox?.length ?? 0;
}

export function isAlive(ref: AnyActorRef): boolean {
  const n = toNact(ref);
  const concrete = systemMap.find(n.system.name, n);
  return !!concrete && !concrete.stopped;
}

/**
 * The id → ref map that routes traffic straight to an actor. nact copies a parent's children map on every
 * message, so a parent of 10,000 cabinets must never sit on the hot path.
 */
export class ActorRegistry<M> {
  private readonly refs = new Map<string, ActorRef<M>>();

  get(id: string): ActorRef<M> | undefined {
    const ref = this.refs.get(id);
    if (ref && !isAlive(ref)) {
      this.refs.delete(id);
      return undefined;
    }
    return ref;
  }

  set(id: string, ref: ActorRef<M>): void {
    this.refs.set(id, ref);
  }

  delete(id: string): void {
    this.refs.delete(id);
  }

  get size(): number {
    return this.refs.size;
  }

  entries(): IterableIterator<[string, ActorRef<M>]> {
    return this.refs.entries();
  }
}
