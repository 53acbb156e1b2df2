import { randomBytes } from 'node:crypto';
import { Subject, filter, take, type Subscription } from 'rxjs';
import type { Clock } from '../../common/clock';
import { AppError } from '../../common/errors';
import { retryUntilStored } from '../../common/retry-until-stored';
import type { Ack, AlarmEvent, DoorEvent, FrameEvent, StatusEvent, UploadDoneEvent } from '../../contracts/cabinet-protocol';
import type { Lane } from '../../contracts/domain';
import { spawnCabinet, type CabinetNotice } from '../cabinet/cabinet.actor';
import { initialCabinetState, type CabinetTimings } from '../cabinet/cabinet.machine';
import type { CabinetMsg, CabinetView, Handled, UnlockRefusal, UnlockReply, VisitPurpose } from '../cabinet/cabinet.protocol';
import type { AlarmKind } from '../../contracts/cabinet-protocol';
import { ActorRegistry, ask, dispatch, mailboxDepth, stopActor, tryDispatch, type ActorRef, type ActorSystem } from '../runtime';
import { spawnVisit } from '../visit/visit.actor';
import { initialVisitState } from '../visit/visit.machine';
import { TERMINAL_VISIT_STATUSES, isFinished, type VisitMsg, type VisitRecognition, type VisitView } from '../visit/visit.protocol';
import { CabinetDirectory } from './cabinet-directory';
import { LastSeenWriter } from './last-seen';
import type { CabinetRecord, DeviceLink, FleetStore, StoredFrame } from './fleet.ports';

/** Everything recognition needs about a finished visit: the cabinet's planogram and every stored frame. */
export interface VisitEvidence {
  visit: VisitView;
  cameras: string[];
  lanes: Lane[];
  frames: StoredFrame[];
}

export interface FleetEntry extends CabinetView {
  /** Messages waiting in the cabinet actor's mailbox. */
  mailbox: number;
}

export interface FleetOptions {
  system: ActorSystem;
  store: FleetStore;
  devices: DeviceLink;
  timings?: Partial<CabinetTimings>;
  /** Frames queued for one visit beyond this are refused with UNAVAILABLE (the device resends later). */
  visitMailboxLimit?: number;
  askTimeoutMs?: number;
  /** Stamps visit ids; defaults to the actor system's clock. */
  clock?: Clock;
  /** Last-seen times are stored in batches at most this long after they happen (default 5 s). */
  lastSeenFlushMs?: number;
  /** Applies a cabinet's pending planogram version as a restock visit takes its door (app/planogram.service.ts). */
  planograms?: PlanogramSwitch;
}

/**
 * The planogram side the fleet calls. A restock is where a new version takes effect (the restocker moves the
 * products; no shopper visit can be open, the restock visit holds the door): `applyAtRestock` answers the
 * version and lanes now in force, or undefined when nothing was pending. `lanesAt` reads an earlier
 * version's lanes, for a visit recognised after its cabinet moved on.
 */
export interface PlanogramSwitch {
  applyAtRestock(cabinetId: string, visitId: string): Promise<{ version: number; lanes: CabinetRecord['lanes'] } | undefined>;
  lanesAt(cabinetId: string, version: number): Promise<CabinetRecord['lanes'] | undefined>;
}

/** The longest a restock waits for its pending planogram to be applied before the door is released anyway. */
const APPLY_PLANOGRAM_MS = 10_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const newVisitId = (clock: Clock): string => `V${clock.now().toString(36)}${randomBytes(6).toString('hex')}`;

type RecoveredAlarms = Array<{ kind: AlarmKind; since: number; detail?: string }>;

/**
 * Manager of the fleet (Akka's device manager): routes device traffic straight to each cabinet's and visit's
 * actor through its own id → ref maps (nact's children map is copied on every message, so no parent with
 * 10,000 children sits on the path), spawns actors on first use after recovering them from the store, keeps
 * the live view that feeds the dashboard, and streams complete visit evidence to recognition.
 */
export class Fleet {
  readonly cabinets = new ActorRegistry<CabinetMsg>();
  readonly visits = new ActorRegistry<VisitMsg>();
  /** Latest view per cabinet, updated by the cabinet actors; reading it costs no message. */
  private readonly views = new Map<string, CabinetView>();
  /** Every registered cabinet's record and sealed secret, in memory (see CabinetDirectory). */
  readonly directory: CabinetDirectory;
  /**
   * The durable facts of every listed cabinet, read in one pass at start-up and handed to its actor when it
   * is spawned (then dropped): the visit holding its door and its raised alarms.
   */
  private readonly openVisitAtStart = new Map<string, VisitView>();
  private readonly alarmsAtStart = new Map<string, RecoveredAlarms>();
  /** Visits whose evidence a restart cut short (frames to count, or recognition to ask), read at start-up and resumed by resumeVisits. */
  private awaitingAtStart: string[] = [];
  private readonly spawning = new Map<string, Promise<ActorRef<CabinetMsg> | undefined>>();
  private readonly visitSpawning = new Map<string, Promise<ActorRef<VisitMsg> | undefined>>();
  readonly viewChanges$ = new Subject<CabinetView>();
  readonly notices$ = new Subject<CabinetNotice>();
  readonly evidence$ = new Subject<VisitEvidence>();
  readonly visitChanges$ = new Subject<VisitView>();
  private readonly askMs: number;
  private readonly visitLimit: number;
  private readonly clock: Clock;
  /** Last-seen times of cabinets gone offline, written in batches (see LastSeenWriter). */
  readonly lastSeen: LastSeenWriter;

  constructor(private readonly o: FleetOptions) {
    this.askMs = o.askTimeoutMs ?? 10_000;
    this.visitLimit = o.visitMailboxLimit ?? 500;
    this.clock = o.clock ?? o.system.clock;
    this.directory = new CabinetDirectory(o.store);
    this.lastSeen = new LastSeenWriter({ clock: o.system.clock, log: o.system.log, write: (rows) => o.store.saveLastSeenMany(rows), flushEveryMs: o.lastSeenFlushMs });
  }

  /**
   * Loads the directory (every registered cabinet, one read) and every cabinet's open visit and raised
   * alarms (one read each), and lists every cabinet in the live view (offline, with its last-seen time)
   * without spawning actors; an actor is spawned when its cabinet first connects or is asked for something,
   * from memory alone. Call once at start-up, before devices connect.
   */
  async loadDirectory(): Promise<number> {
    const [rows, visits, alarms, awaiting] = await Promise.all([this.o.store.listCabinets(), this.o.store.openVisits(), this.o.store.allRaisedAlarms(), this.o.store.visitsAwaitingEvidence()]);
    this.directory.load(rows);
    for (const v of visits) if (!this.cabinets.get(v.cabinetId)) this.openVisitAtStart.set(v.cabinetId, v);
    for (const a of alarms) {
      if (this.cabinets.get(a.cabinetId)) continue;
      const list = this.alarmsAtStart.get(a.cabinetId) ?? [];
      list.push({ kind: a.kind, since: a.since, detail: a.detail });
      this.alarmsAtStart.set(a.cabinetId, list);
    }
    for (const r of rows) {
      if (!this.views.has(r.cabinetId)) this.views.set(r.cabinetId, { cabinetId: r.cabinetId, kind: r.kind, siteId: r.siteId, state: 'offline', online: false, lastSeenAt: r.lastSeenAt, firmware: r.firmware, alarms: (this.alarmsAtStart.get(r.cabinetId) ?? []).map((a) => a.kind) });
    }
    this.awaitingAtStart = awaiting.map((v) => v.visitId);
    return rows.length;
  }

  /**
   * Recovers every visit whose evidence a restart cut short (read by loadDirectory). The device was told
   * everything arrived, so it sends nothing more for these visits: each counts its stored frames against the
   * recorded upload.done and completes if all are in, and a complete one still unrecognised hands its
   * evidence to recognition again (the visit's `started`, from its journal, which may be ahead of its
   * projection); waiting for traffic that never comes would hold the evidence, and the cabinet, for ever.
   * Call once at start-up, after recognition subscribes to `evidence$` (a completed visit emits there).
   */
  resumeVisits(): number {
    const ids = this.awaitingAtStart.splice(0);
    for (const id of ids) this.visit(id).catch((e: unknown) => this.o.system.log.error({ visitId: id, err: e instanceof Error ? e.message : String(e) }, 'visit not recovered'));
    return ids.length;
  }

  /**
   * A newly provisioned cabinet joins the live view at once, and the directory when its whole record is
   * given (its device secret is read by key on its first handshake).
   */
  registered(c: { cabinetId: string; kind: CabinetView['kind']; siteId: string } & Partial<Omit<CabinetRecord, 'cabinetId' | 'kind' | 'siteId'>>): void {
    if (!this.views.has(c.cabinetId)) this.views.set(c.cabinetId, { cabinetId: c.cabinetId, kind: c.kind, siteId: c.siteId, state: 'offline', online: false, alarms: [] });
    if (c.name !== undefined && c.cameras && c.lanes) {
      this.directory.add({ cabinetId: c.cabinetId, name: c.name, kind: c.kind, siteId: c.siteId, disabled: c.disabled ?? false, cameras: c.cameras, lanes: c.lanes, planogramVersion: c.planogramVersion ?? 1 });
    }
  }

  /** The cabinet's actor, spawned from its record on first use; undefined for an unknown cabinet. */
  cabinet(cabinetId: string): Promise<ActorRef<CabinetMsg> | undefined> {
    const ref = this.cabinets.get(cabinetId) ?? this.spawnFromMemory(cabinetId);
    if (ref) return Promise.resolve(ref);
    let pending = this.spawning.get(cabinetId);
    if (!pending) {
      pending = this.spawnCabinet(cabinetId).finally(() => this.spawning.delete(cabinetId));
      this.spawning.set(cabinetId, pending);
    }
    return pending;
  }

  /** Spawns at once, with no I/O, a cabinet whose record and durable facts are already in memory. */
  private spawnFromMemory(cabinetId: string): ActorRef<CabinetMsg> | undefined {
    const origin = this.directory.origin(cabinetId);
    const rec = this.directory.get(cabinetId);
    if (!rec || origin === 'fetched' || this.spawning.has(cabinetId)) return undefined;
    const openVisit = this.openVisitAtStart.get(cabinetId);
    const raised = this.alarmsAtStart.get(cabinetId) ?? [];
    this.openVisitAtStart.delete(cabinetId);
    this.alarmsAtStart.delete(cabinetId);
    return this.startCabinetActor(rec, openVisit, raised);
  }

  /** The slow path: a cabinet not in memory (registered elsewhere after start, or no directory loaded). */
  private async spawnCabinet(cabinetId: string): Promise<ActorRef<CabinetMsg> | undefined> {
    const rec = await this.directory.record(cabinetId);
    if (!rec) return undefined;
    const [openVisit, raised] = await Promise.all([this.o.store.openVisitOf(cabinetId), this.o.store.raisedAlarms(cabinetId)]);
    return this.cabinets.get(cabinetId) ?? this.startCabinetActor(rec, openVisit, raised);
  }

  private startCabinetActor(rec: CabinetRecord, openVisit: VisitView | undefined, raised: RecoveredAlarms): ActorRef<CabinetMsg> {
    const cabinetId = rec.cabinetId;
    const state = initialCabinetState({
      cabinetId,
      kind: rec.kind,
      siteId: rec.siteId,
      disabled: rec.disabled,
      timings: this.o.timings,
      openVisit: openVisit && !TERMINAL_VISIT_STATUSES.includes(openVisit.status)
        ? { visitId: openVisit.visitId, purpose: openVisit.purpose, shopperId: openVisit.shopperId, operatorId: openVisit.operatorId, status: openVisit.status as 'unlocking' | 'open' | 'closed', requestedAt: openVisit.requestedAt }
        : undefined,
      raisedAlarms: raised,
    });
    const ref = spawnCabinet(this.o.system, state, {
      store: this.o.store,
      devices: this.o.devices,
      startVisit: async (e, siteId) => {
        const planogramVersion = this.directory.get(cabinetId)?.planogramVersion ?? rec.planogramVersion ?? 1;
        const created = await this.o.store.createVisit({
          visitId: e.visit.visitId,
          cabinetId,
          siteId,
          purpose: e.visit.purpose,
          shopperId: e.visit.shopperId,
          operatorId: e.visit.operatorId,
          requestedAt: e.visit.requestedAt,
          unlockExpiresAt: e.unlockExpiresAt,
          planogramVersion,
        });
        if (created === 'created') {
          // Its id was just inserted under a unique index: nothing is journalled under it yet.
          this.startVisitActor(initialVisitState({ visitId: e.visit.visitId, cabinetId, siteId, purpose: e.visit.purpose, shopperId: e.visit.shopperId, operatorId: e.visit.operatorId, requestedAt: e.visit.requestedAt, planogramVersion }), true);
        }
        return created;
      },
      visit: (visitId) => this.visit(visitId),
      publish: (view) => {
        this.views.set(cabinetId, view);
        this.viewChanges$.next(view);
      },
      notice: (n) => this.notices$.next(n),
      lastSeen: (at, firmware) => this.lastSeen.note({ cabinetId, at, firmware }),
    });
    this.cabinets.set(cabinetId, ref);
    const known = this.views.get(cabinetId);
    this.views.set(cabinetId, { cabinetId, kind: rec.kind, siteId: rec.siteId, state: 'offline', online: false, lastSeenAt: known?.lastSeenAt, alarms: raised.map((a) => a.kind) });
    return ref;
  }

  private startVisitActor(initial: VisitView, fresh = false): ActorRef<VisitMsg> {
    const ref = spawnVisit(this.o.system, initial, {
      store: this.o.store,
      onEvidenceComplete: (view) => {
        // The door is free as soon as the evidence is in; recognition runs without holding the cabinet.
        const release = () => {
          const cab = this.cabinets.get(view.cabinetId);
          if (cab) dispatch(cab, { type: 'VisitEnded', visitId: view.visitId });
          else this.forgetOpenVisit(view);
        };
        if (view.purpose === 'shopping') this.emitEvidence(view);
        // A restock whose door was opened is where a pending planogram takes effect: the restocker has laid
        // the shelf out by it, and the door is still held, so no shopper visit starts under the old lanes.
        if (view.purpose === 'restock' && view.openedAt !== undefined && this.o.planograms) void this.applyPlanogram(view).finally(release);
        else release();
      },
      onEnded: (view) => {
        this.forgetOpenVisit(view);
        // Out of the registry before anyone hears of the end, so a question asked from now on is answered by
        // the store (which the projection before this effect has brought up to date); a late resend finds the
        // visit finished there.
        this.visits.delete(view.visitId);
        this.visitChanges$.next(view);
        setImmediate(() => stopActor(ref));
      },
    }, { fresh });
    this.visits.set(initial.visitId, ref);
    return ref;
  }

  /**
   * Applies the cabinet's pending planogram version at the end of a restock visit that opened the door. A
   * store failure leaves it pending (the console shows it so) for the next restock rather than holding the
   * cabinet; bounded so the door is released even when the database hangs.
   */
  private async applyPlanogram(view: VisitView): Promise<void> {
    const log = this.o.system.log;
    try {
      const applied = await withTimeout(this.o.planograms!.applyAtRestock(view.cabinetId, view.visitId), APPLY_PLANOGRAM_MS);
      if (applied) this.directory.setPlanogram(view.cabinetId, applied.version, applied.lanes);
    } catch (err) {
      log.error({ cabinetId: view.cabinetId, visitId: view.visitId, err: err instanceof Error ? err.message : String(err) }, 'pending planogram not applied at this restock; it stays pending');
    }
  }

  /** A visit recovered before its cabinet's actor (a resend after a restart) ended: the cabinet must not wait for it. */
  private forgetOpenVisit(view: VisitView): void {
    if (this.openVisitAtStart.get(view.cabinetId)?.visitId === view.visitId) this.openVisitAtStart.delete(view.cabinetId);
  }

  /**
   * Reads the visit's evidence and hands it to recognition. A read that meets a database outage is tried again
   * with backoff (at most 5 s apart): found by the FerretDB crash matrix (killed as the evidence completed),
   * where the failed read was an unhandled rejection, recognition never ran and the session stayed
   * `recognising` until the next start-up's pass.
   */
  private emitEvidence(view: VisitView): void {
    void retryUntilStored(`visit ${view.visitId} evidence read`, async () => {
      const plan = await this.directory.record(view.cabinetId);
      // The lanes of the version that stood when the door opened: the directory's, unless a restock has
      // applied another since (the evidence is read after the door is released, and again after a failure).
      let lanes = plan?.lanes ?? [];
      if (plan && view.planogramVersion !== undefined && (plan.planogramVersion ?? 1) !== view.planogramVersion && this.o.planograms) {
        lanes = (await this.o.planograms.lanesAt(view.cabinetId, view.planogramVersion)) ?? lanes;
      }
      const frames = await this.o.store.loadFrames(view.visitId, view.expectedFrames ?? view.receivedFrames);
      this.evidence$.next({ visit: view, cameras: plan?.cameras ?? [], lanes, frames });
    }, { clock: this.o.system.clock, log: this.o.system.log });
  }

  /** The running visit actor, recovered from its journal if the service restarted; undefined if unknown or ended. */
  visit(visitId: string): Promise<ActorRef<VisitMsg> | undefined> {
    const ref = this.visits.get(visitId);
    if (ref) return Promise.resolve(ref);
    let pending = this.visitSpawning.get(visitId);
    if (!pending) {
      pending = (async () => {
        const stored = await this.o.store.loadVisit(visitId);
        if (!stored || isFinished(stored)) return undefined;
        return this.visits.get(visitId) ?? this.startVisitActor(initialVisitState({ visitId, cabinetId: stored.cabinetId, siteId: stored.siteId, purpose: stored.purpose, shopperId: stored.shopperId, operatorId: stored.operatorId, requestedAt: stored.requestedAt, ...(stored.planogramVersion !== undefined ? { planogramVersion: stored.planogramVersion } : {}) }));
      })().finally(() => this.visitSpawning.delete(visitId));
      this.visitSpawning.set(visitId, pending);
    }
    return pending;
  }

  // ---- device traffic (from the gateway) ----

  /**
   * Hands a device message to the cabinet's actor without waiting for it to be spawned: when the actor is not
   * up yet, the message follows the spawn (in order with the device's earlier messages, which wait on the
   * same spawn).
   */
  private toCabinet(cabinetId: string, msg: CabinetMsg, spawn = true): void {
    const ref = this.cabinets.get(cabinetId) ?? (spawn ? this.spawnFromMemory(cabinetId) : undefined);
    if (ref) return dispatch(ref, msg);
    const pending = spawn ? this.cabinet(cabinetId) : this.spawning.get(cabinetId);
    pending?.then(
      (r) => r && dispatch(r, msg),
      (e: unknown) => this.o.system.log.error({ cabinetId, msg: msg.type, err: e instanceof Error ? e.message : String(e) }, 'cabinet actor not spawned'),
    );
  }

  async deviceConnected(cabinetId: string, connectionId: string, firmware: string): Promise<void> {
    this.toCabinet(cabinetId, { type: 'DeviceConnected', connectionId, firmware });
  }

  async deviceDisconnected(cabinetId: string, connectionId: string): Promise<void> {
    this.toCabinet(cabinetId, { type: 'DeviceDisconnected', connectionId }, false);
  }

  /** Resolves at once: the status ack never waits for the cabinet's actor to be spawned or to handle it. */
  async status(cabinetId: string, status: StatusEvent): Promise<void> {
    this.toCabinet(cabinetId, { type: 'StatusReported', status });
  }

  async door(cabinetId: string, e: DoorEvent): Promise<void> {
    const ref = await this.cabinet(cabinetId);
    if (!ref) throw new AppError('NOT_FOUND', `unknown cabinet ${cabinetId}`);
    await ask<CabinetMsg, Handled>(ref, (replyTo) => ({ type: 'DoorReported', state: e.state, visitId: e.visitId, ts: e.ts, replyTo }), this.askMs);
  }

  async alarm(cabinetId: string, e: AlarmEvent): Promise<void> {
    const ref = await this.cabinet(cabinetId);
    if (!ref) throw new AppError('NOT_FOUND', `unknown cabinet ${cabinetId}`);
    await ask<CabinetMsg, Handled>(ref, (replyTo) => ({ type: 'AlarmReported', kind: e.kind, detail: e.detail, ts: e.ts, replyTo }), this.askMs);
  }

  /** Stores the frame through its visit (idempotent) and resolves with the ack for the device. */
  async frame(cabinetId: string, f: FrameEvent): Promise<Ack> {
    const ref = await this.visit(f.visitId);
    if (!ref) {
      const stored = await this.o.store.loadVisit(f.visitId);
      if (!stored || stored.cabinetId !== cabinetId) return { ok: false, error: { code: 'UNKNOWN_VISIT', message: `no visit ${f.visitId} for this cabinet` } };
      // The visit already ended (a resend after completion): keep the frame, idempotently.
      await this.o.store.storeFrame(f.visitId, f);
      return { ok: true };
    }
    return new Promise<Ack>((resolve) => {
      const accepted = tryDispatch(ref, { type: 'FrameArrived', camera: f.camera, seq: f.seq, phase: f.phase, ts: f.ts, jpeg: f.jpeg, ack: resolve }, this.visitLimit);
      if (!accepted) resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'visit is busy; send the frame again later' } });
    });
  }

  /**
   * A frame the gateway refuses (too large): its visit records it, so the upload.done that counts it does not
   * wait for it for ever, and then the device gets `answer`. A frame of a visit not running gets it at once.
   */
  async frameRefused(f: Pick<FrameEvent, 'visitId' | 'camera' | 'seq' | 'phase'>, answer: Ack): Promise<Ack> {
    const ref = await this.visit(f.visitId);
    if (!ref) return answer;
    return new Promise<Ack>((resolve) => {
      const accepted = tryDispatch(ref, { type: 'FrameRefused', frame: { camera: f.camera, seq: f.seq, phase: f.phase, reason: 'TOO_LARGE' }, answer, ack: resolve }, this.visitLimit);
      if (!accepted) resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'visit is busy; send the frame again later' } });
    });
  }

  async uploadDone(cabinetId: string, e: UploadDoneEvent): Promise<Ack> {
    this.o.system.log.debug({ cabinetId, visitId: e.visitId, frames: e.frames }, 'upload.done received');
    const ref = await this.visit(e.visitId);
    if (!ref) {
      const stored = await this.o.store.loadVisit(e.visitId);
      return stored && stored.cabinetId === cabinetId ? { ok: true } : { ok: false, error: { code: 'UNKNOWN_VISIT', message: `no visit ${e.visitId} for this cabinet` } };
    }
    return new Promise<Ack>((resolve) => dispatch(ref, { type: 'UploadDone', frames: e.frames, ack: resolve }));
  }

  // ---- requests from shoppers, operators and tools ----

  /** Asks the cabinet to unlock for a new visit; resolves once the device acknowledged (or refused). */
  async requestUnlock(cabinetId: string, req: { purpose: VisitPurpose; shopperId?: string; operatorId?: string }): Promise<{ ok: true; visitId: string } | { ok: false; reason: UnlockRefusal | 'UNKNOWN_CABINET' }> {
    const ref = await this.cabinet(cabinetId);
    if (!ref) return { ok: false, reason: 'UNKNOWN_CABINET' };
    const visitId = newVisitId(this.clock);
    const reply = await ask<CabinetMsg, UnlockReply>(ref, (replyTo) => ({ type: 'RequestUnlock', visitId, replyTo, ...req }), this.askMs);
    return reply.type === 'UnlockGranted' ? { ok: true, visitId: reply.visitId } : { ok: false, reason: reply.reason };
  }

  /** Hands recognition's answer to the visit, which records it before it ends. */
  async recognitionDone(visitId: string, recognition: VisitRecognition): Promise<boolean> {
    const ref = await this.visit(visitId);
    if (!ref) return false;
    dispatch(ref, { type: 'RecognitionDone', recognition });
    return true;
  }

  async visitView(visitId: string): Promise<VisitView | undefined> {
    const ref = this.visits.get(visitId);
    if (!ref) return this.o.store.loadVisit(visitId);
    // The visit may end, and its actor stop, while the question waits in its mailbox: then its last view (as
    // it ended) answers, and should the ask fail anyway (timeout, actor gone) the store does.
    let sub: Subscription | undefined;
    const ended = new Promise<VisitView>((resolve) => {
      sub = this.visitChanges$.pipe(filter((v) => v.visitId === visitId), take(1)).subscribe(resolve);
    });
    try {
      return await Promise.race([ask<VisitMsg, VisitView>(ref, (replyTo) => ({ type: 'GetVisit', replyTo }), this.askMs), ended]);
    } catch {
      return this.o.store.loadVisit(visitId);
    } finally {
      sub?.unsubscribe();
    }
  }

  /**
   * Disables (or enables again) a cabinet: stored, then in the directory (the next handshake is refused with
   * DISABLED) and in its actor (unlocks refused).
   */
  async setDisabled(cabinetId: string, disabled: boolean): Promise<void> {
    await this.o.store.setDisabled(cabinetId, disabled);
    this.directory.setDisabled(cabinetId, disabled);
    const ref = this.cabinets.get(cabinetId);
    if (ref) dispatch(ref, { type: 'SetDisabled', disabled });
  }

  /** Every live cabinet's view plus its mailbox depth; no actor is messaged, so 1 Hz at 10,000 is cheap. */
  snapshot(): FleetEntry[] {
    const out: FleetEntry[] = [];
    for (const [id, view] of this.views) {
      const ref = this.cabinets.get(id);
      out.push({ ...view, mailbox: ref ? mailboxDepth(ref) : 0 });
    }
    return out;
  }

  view(cabinetId: string): FleetEntry | undefined {
    const v = this.views.get(cabinetId);
    const ref = this.cabinets.get(cabinetId);
    return v && { ...v, mailbox: ref ? mailboxDepth(ref) : 0 };
  }

  /** Completes the streams and starts writing the last-seen times still pending (await flushLastSeen() to wait). */
  close(): void {
    this.lastSeen.close();
    void this.lastSeen.flush();
    for (const s of [this.viewChanges$, this.notices$, this.evidence$, this.visitChanges$] as Array<Subject<unknown>>) s.complete();
  }

  /** Writes the pending last-seen times now. */
  flushLastSeen(): Promise<void> {
    return this.lastSeen.flush();
  }
}
