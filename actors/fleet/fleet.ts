import { randomBytes } from 'node:crypto';
import { Subject } from 'rxjs';
import { AppError } from '../../common/errors';
import type { Ack, AlarmEvent, DoorEvent, FrameEvent, StatusEvent, UploadDoneEvent } from '../../contracts/cabinet-protocol';
import type { Lane } from '../../contracts/domain';
import { spawnCabinet, type CabinetNotice } from '../cabinet/cabinet.actor';
import { initialCabinetState, type CabinetTimings } from '../cabinet/cabinet.machine';
import type { CabinetMsg, CabinetView, Handled, UnlockReply, VisitPurpose } from '../cabinet/cabinet.protocol';
import { ActorRegistry, ask, dispatch, mailboxDepth, stopActor, tryDispatch, type ActorRef, type ActorSystem } from '../runtime';
import { spawnVisit } from '../visit/visit.actor';
import { initialVisitState } from '../visit/visit.machine';
import { TERMINAL_VISIT_STATUSES, isFinished, type VisitMsg, type VisitRecognition, type VisitView } from '../visit/visit.protocol';
import type { DeviceLink, FleetStore, StoredFrame } from './fleet.ports';

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
}

const newVisitId = (): string => `V${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;

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
  private readonly lanes = new Map<string, { cameras: string[]; lanes: Lane[] }>();
  private readonly spawning = new Map<string, Promise<ActorRef<CabinetMsg> | undefined>>();
  private readonly visitSpawning = new Map<string, Promise<ActorRef<VisitMsg> | undefined>>();
  readonly viewChanges$ = new Subject<CabinetView>();
  readonly notices$ = new Subject<CabinetNotice>();
  readonly evidence$ = new Subject<VisitEvidence>();
  readonly visitChanges$ = new Subject<VisitView>();
  private readonly askMs: number;
  private readonly visitLimit: number;

  constructor(private readonly o: FleetOptions) {
    this.askMs = o.askTimeoutMs ?? 10_000;
    this.visitLimit = o.visitMailboxLimit ?? 500;
  }

  /**
   * Lists every registered cabinet in the live view (offline, with its last-seen time) without spawning
   * actors; an actor is spawned when its cabinet first connects or is asked for something.
   */
  async loadDirectory(): Promise<number> {
    const rows = await this.o.store.listCabinets();
    for (const r of rows) {
      if (!this.views.has(r.cabinetId)) this.views.set(r.cabinetId, { cabinetId: r.cabinetId, kind: r.kind, siteId: r.siteId, state: 'offline', online: false, lastSeenAt: r.lastSeenAt, firmware: r.firmware, alarms: [] });
    }
    return rows.length;
  }

  /** A newly provisioned cabinet joins the live view at once. */
  registered(c: { cabinetId: string; kind: CabinetView['kind']; siteId: string }): void {
    if (!this.views.has(c.cabinetId)) this.views.set(c.cabinetId, { ...c, state: 'offline', online: false, alarms: [] });
  }

  /** The cabinet's actor, spawned from its stored record on first use; undefined for an unknown cabinet. */
  cabinet(cabinetId: string): Promise<ActorRef<CabinetMsg> | undefined> {
    const ref = this.cabinets.get(cabinetId);
    if (ref) return Promise.resolve(ref);
    let pending = this.spawning.get(cabinetId);
    if (!pending) {
      pending = this.spawnCabinet(cabinetId).finally(() => this.spawning.delete(cabinetId));
      this.spawning.set(cabinetId, pending);
    }
    return pending;
  }

  private async spawnCabinet(cabinetId: string): Promise<ActorRef<CabinetMsg> | undefined> {
    const rec = await this.o.store.loadCabinet(cabinetId);
    if (!rec) return undefined;
    const [openVisit, raised] = await Promise.all([this.o.store.openVisitOf(cabinetId), this.o.store.raisedAlarms(cabinetId)]);
    const again = this.cabinets.get(cabinetId);
    if (again) return again;
    this.lanes.set(cabinetId, { cameras: rec.cameras, lanes: rec.lanes });
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
        const created = await this.o.store.createVisit({
          visitId: e.visit.visitId,
          cabinetId,
          siteId,
          purpose: e.visit.purpose,
          shopperId: e.visit.shopperId,
          operatorId: e.visit.operatorId,
          requestedAt: e.visit.requestedAt,
          unlockExpiresAt: e.unlockExpiresAt,
        });
        if (created === 'created') {
          this.startVisitActor(initialVisitState({ visitId: e.visit.visitId, cabinetId, siteId, purpose: e.visit.purpose, shopperId: e.visit.shopperId, operatorId: e.visit.operatorId, requestedAt: e.visit.requestedAt }));
        }
        return created;
      },
      visit: (visitId) => this.visit(visitId),
      publish: (view) => {
        this.views.set(cabinetId, view);
        this.viewChanges$.next(view);
      },
      notice: (n) => this.notices$.next(n),
    });
    this.cabinets.set(cabinetId, ref);
    const known = this.views.get(cabinetId);
    this.views.set(cabinetId, { cabinetId, kind: rec.kind, siteId: rec.siteId, state: 'offline', online: false, lastSeenAt: known?.lastSeenAt, alarms: raised.map((a) => a.kind) });
    return ref;
  }

  private startVisitActor(initial: VisitView): ActorRef<VisitMsg> {
    const ref = spawnVisit(this.o.system, initial, {
      store: this.o.store,
      onEvidenceComplete: (view) => {
        // The door is free as soon as the evidence is in; recognition runs without holding the cabinet.
        const cab = this.cabinets.get(view.cabinetId);
        if (cab) dispatch(cab, { type: 'VisitEnded', visitId: view.visitId });
        if (view.purpose === 'shopping') void this.emitEvidence(view);
      },
      onEnded: (view) => {
        this.visitChanges$.next(view);
        // The journal holds it now; a late resend spawns it again from the store.
        setImmediate(() => {
          stopActor(ref);
          this.visits.delete(view.visitId);
        });
      },
    });
    this.visits.set(initial.visitId, ref);
    return ref;
  }

  private async emitEvidence(view: VisitView): Promise<void> {
    const plan = this.lanes.get(view.cabinetId) ?? (await this.o.store.loadCabinet(view.cabinetId));
    const frames = await this.o.store.loadFrames(view.visitId);
    this.evidence$.next({ visit: view, cameras: plan?.cameras ?? [], lanes: plan?.lanes ?? [], frames });
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
        return this.visits.get(visitId) ?? this.startVisitActor(initialVisitState({ visitId, cabinetId: stored.cabinetId, siteId: stored.siteId, purpose: stored.purpose, shopperId: stored.shopperId, operatorId: stored.operatorId, requestedAt: stored.requestedAt }));
      })().finally(() => this.visitSpawning.delete(visitId));
      this.visitSpawning.set(visitId, pending);
    }
    return pending;
  }

  // ---- device traffic (from the gateway) ----

  async deviceConnected(cabinetId: string, connectionId: string, firmware: string): Promise<void> {
    const ref = await this.cabinet(cabinetId);
    if (ref) dispatch(ref, { type: 'DeviceConnected', connectionId, firmware });
  }

  async deviceDisconnected(cabinetId: string, connectionId: string): Promise<void> {
    const ref = this.cabinets.get(cabinetId);
    if (ref) dispatch(ref, { type: 'DeviceDisconnected', connectionId });
  }

  async status(cabinetId: string, status: StatusEvent): Promise<void> {
    const ref = await this.cabinet(cabinetId);
    if (ref) dispatch(ref, { type: 'StatusReported', status });
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

  async uploadDone(cabinetId: string, e: UploadDoneEvent): Promise<Ack> {
    const ref = await this.visit(e.visitId);
    if (!ref) {
      const stored = await this.o.store.loadVisit(e.visitId);
      return stored && stored.cabinetId === cabinetId ? { ok: true } : { ok: false, error: { code: 'UNKNOWN_VISIT', message: `no visit ${e.visitId} for this cabinet` } };
    }
    return new Promise<Ack>((resolve) => dispatch(ref, { type: 'UploadDone', frames: e.frames, ack: resolve }));
  }

  // ---- requests from shoppers, operators and tools ----

  /** Asks the cabinet to unlock for a new visit; resolves once the device acknowledged (or refused). */
  async requestUnlock(cabinetId: string, req: { purpose: VisitPurpose; shopperId?: string; operatorId?: string }): Promise<{ ok: true; visitId: string } | { ok: false; reason: string }> {
    const ref = await this.cabinet(cabinetId);
    if (!ref) return { ok: false, reason: 'UNKNOWN_CABINET' };
    const visitId = newVisitId();
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

  /** Complete shopping visits whose recognition never came back (e.g. the service stopped meanwhile). */
  async resubmitUnrecognised(visitIds: string[]): Promise<void> {
    for (const id of visitIds) {
      const view = await this.o.store.loadVisit(id);
      if (view && view.status === 'complete' && view.purpose === 'shopping' && !view.recognition) await this.emitEvidence(view);
    }
  }

  async visitView(visitId: string): Promise<VisitView | undefined> {
    const ref = this.visits.get(visitId);
    if (ref) return ask<VisitMsg, VisitView>(ref, (replyTo) => ({ type: 'GetVisit', replyTo }), this.askMs);
    return this.o.store.loadVisit(visitId);
  }

  async setDisabled(cabinetId: string, disabled: boolean): Promise<void> {
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

  close(): void {
    for (const s of [this.viewChanges$, this.notices$, this.evidence$, this.visitChanges$] as Array<Subject<unknown>>) s.complete();
  }
}
