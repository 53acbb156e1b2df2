import { assertNever } from '../../common/assert-never';
import { dispatch, spawnMachine, type ActorRef, type ActorSystem } from '../runtime';
import type { FleetStore } from '../fleet/fleet.ports';
import { decide, type VisitEffect, type VisitState } from './visit.machine';
import type { VisitMsg, VisitView } from './visit.protocol';

export interface VisitDeps {
  store: FleetStore;
  /** The visit's evidence is complete (door closed, every announced frame stored). */
  onEvidenceComplete(view: VisitView): void;
  /** The visit reached a terminal status; the cabinet may take the next one. */
  onEnded(view: VisitView): void;
}

/** What a visit that starts from its journal (or after a reset) does first: re-project, then carry on. */
function resume(s: VisitState): VisitEffect[] {
  const effects: VisitEffect[] = [{ type: 'Project', view: s, releaseDoor: s.status !== 'open' && s.status !== 'unlocking' }];
  if (s.status === 'closed' && s.expectedFrames) effects.push({ type: 'CountFrames' });
  if (s.status === 'complete' && s.purpose === 'shopping' && !s.recognition) effects.push({ type: 'EvidenceComplete', view: s });
  return effects;
}

/**
 * One actor per door opening, journalled under `visit:<id>` so a restart recovers it mid-upload. `fresh`: the
 * visit was just created (its id is new), so there is no journal to read when it starts.
 */
export function spawnVisit(system: ActorSystem, initial: VisitState, deps: VisitDeps, opts: { fresh?: boolean } = {}): ActorRef<VisitMsg> {
  // Frames of this visit known to be in the store ("camera:seq"): every frame this actor stored or found
  // stored already. Counting is then a lookup; only frames it never saw (stored before a restart) are read.
  const known = new Set<string>();
  let evidenceTimer: (() => void) | undefined;
  const countFrames = async (expected: Record<string, number>, refused: VisitState['refusedFrames'] = []): Promise<Record<string, number>> => {
    // Refused frames are never stored: not worth a read.
    const skip = new Set(refused.map((f) => `${f.camera}:${f.seq}`));
    const wanted = Object.entries(expected).flatMap(([camera, n]) => Array.from({ length: n }, (_, seq) => ({ camera, seq }))).filter((w) => !skip.has(`${w.camera}:${w.seq}`));
    const unknown = wanted.filter((w) => !known.has(`${w.camera}:${w.seq}`));
    if (unknown.length) for (const f of await deps.store.storedFrames(initial.visitId, unknown)) known.add(`${f.camera}:${f.seq}`);
    const counts: Record<string, number> = {};
    for (const w of wanted) if (known.has(`${w.camera}:${w.seq}`)) counts[w.camera] = (counts[w.camera] ?? 0) + 1;
    return counts;
  };
  return spawnMachine<VisitState, VisitMsg, VisitEffect>(system, {
    id: `visit-${initial.visitId}`,
    persistenceKey: `visit:${initial.visitId}`,
    fresh: opts.fresh,
    snapshotEvery: 50,
    initialState: initial,
    decide,
    // Binary frames and callbacks never go into the journal (frames never change the state anyway).
    encode: (m) => {
      if (m.type === 'FrameArrived') return { type: 'FrameArrived', camera: m.camera, seq: m.seq, phase: m.phase, ts: m.ts };
      if (m.type === 'UploadDone') return { type: 'UploadDone', frames: m.frames };
      if (m.type === 'FrameRefused') return { type: 'FrameRefused', frame: m.frame, answer: m.answer };
      const { replyTo: _r, ...rest } = m as VisitMsg & { replyTo?: unknown };
      return rest;
    },
    decode: (d) => {
      const m = d as VisitMsg;
      if (m.type === 'UploadDone' || m.type === 'FrameRefused') return { ...m, ack: () => undefined };
      return m;
    },
    // A recovered visit re-projects what it recovered; a fresh one was just inserted with exactly that, unless
    // this is the restart after a failure (a projection that met an outage is written again here). Then it
    // carries on: a closed visit counts its frames again, and a complete shopping visit still unrecognised
    // hands its evidence to recognition again (the process that completed it may have died before its
    // projection said so; recognising twice is harmless, the second answer is ignored).
    started: (s, _now, { restarted }) => (opts.fresh && !restarted ? [] : resume(s)),
    supervision: 'restart',
    async perform(effects, ctx, state) {
      for (const e of effects) {
        ctx.log.debug({ visitId: state.visitId, effect: e.type, status: state.status }, 'visit effect');
        switch (e.type) {
          case 'StoreFrame': {
            try {
              await deps.store.storeFrame(state.visitId, e);
              known.add(`${e.camera}:${e.seq}`);
              e.ack({ ok: true });
            } catch (err) {
              ctx.log.error({ visitId: state.visitId, err: String(err) }, 'frame not stored');
              e.ack({ ok: false, error: { code: 'UNAVAILABLE', message: 'frame not stored; send it again' } });
            }
            break;
          }
          case 'AckDevice':
            e.ack(e.answer ?? { ok: true });
            break;
          case 'CountFrames': {
            const counts = await countFrames(state.expectedFrames ?? {}, state.refusedFrames);
            ctx.log.debug({ visitId: state.visitId, counts, expected: state.expectedFrames }, 'visit frames counted');
            dispatch(ctx.self, { type: 'FramesCounted', counts });
            break;
          }
          case 'ArmEvidenceCheck':
            evidenceTimer?.();
            evidenceTimer = ctx.schedule(e.ms, { type: 'EvidenceCheck' });
            break;
          case 'Project':
            await deps.store.projectVisit(e.view, e.releaseDoor);
            break;
          case 'EvidenceComplete':
            deps.onEvidenceComplete(e.view);
            break;
          case 'Ended':
            deps.onEnded(e.view);
            break;
          case 'Reply':
            dispatch(e.to, e.view);
            break;
          case 'Noted':
            dispatch(e.to, { type: 'Noted' });
            break;
          default:
            assertNever(e, 'visit effect');
        }
      }
    },
  });
}
