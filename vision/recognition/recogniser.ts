import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/log';
import type { ProductSpec } from '../../contracts/domain';
import { applyAffine, cameraAffine, composeAffine, shelfLayout, slotRect, type Affine, type LaneCell, type Rect } from '../render/geometry';
import { RecognitionResult, VisitEvidence, type FramePhase, type SlotEvidence, type VisitFrame } from '../recognition.types';
import { CROP_BYTES, cropSlot, decodeJpeg, frameStats, type DecodedFrame } from './crop';
import { decide, type Reason, type SlotReading, type ViewReading } from './decide';
import { loadEmbedder, type Embedder } from './embedder';
import { Gallery, type GalleryData } from './gallery';
import { facingDiffs } from './gate';
import { judgeMotion, register, regPyramid, type MotionLimits } from './register';

/** Thresholds and constants shipped with the model in manifest.json; tuned on the validation split only. */
export interface Thresholds {
  /** Visit confidence needed to settle. */
  settle: number;
  /** Confidence needed to settle an item taken from a lane planned for another SKU. */
  offPlanogram: number;
  /** A view at or above this occluded probability is ignored. */
  occludedP: number;
  /**
   * Before/after block difference (0..255) above which a facing is classified. It must be exceeded in every
   * camera that has both snapshots: a real change shows in all of them, glare and hands mostly in one.
   */
  gate: number;
  /** Prior probability that a facing holds something other than its lane's planogram SKU. */
  offPlanogramPrior: number;
  /** Softmax scale over cosine similarities. */
  scale: number;
  /** Frames darker, brighter or flatter than this are unreadable. */
  minMean: number;
  maxMean: number;
  minStd: number;
  /**
   * How far a camera may move between its `before` and `after` snapshots and still be read: within these the
   * after frame is registered to the before frame and cropped through the corrected calibration (a shake, a
   * knocked camera); beyond them the visit is held with `camera_moved` and the camera needs recalibrating.
   * Shift in pixels of the frame centre, rotation in degrees, scale as |s − 1|.
   */
  cameraShiftPx: number;
  cameraRotationDeg: number;
  cameraScale: number;
  /**
   * Registrations whose gradient correlation is below this are not trusted. Aligned snapshots of the rendered
   * shelf scored 0.95–1.0 (120 frame pairs, half under `hard` nuisances); a camera moved by two facings, which
   * a lane of identical items lets align one facing off, scored 0.54–0.87.
   */
  registrationQuality: number;
  /**
   * Motions that move no frame corner by this many pixels are left uncorrected: the renderer's own snapshots of
   * one scene differ by up to 0.37 px (item jitter follows each frame's nuisance level), and resampling for it
   * would only add noise.
   */
  registrationDeadbandPx: number;
}

/** Used for any threshold a manifest does not carry (older manifests). */
export const DEFAULT_THRESHOLDS: Thresholds = {
  settle: 0.9,
  offPlanogram: 0.95,
  occludedP: 0.5,
  gate: 25,
  offPlanogramPrior: 0.03,
  scale: 20,
  minMean: 12,
  maxMean: 248,
  minStd: 4,
  // Not tuned per model (registration does not use it). 8 px and 2° cover a shake or a knocked camera and stay
  // far below a facing pitch (~34 px in a 960×720 frame), the motion at which a lane of identical items could
  // align one facing off.
  cameraShiftPx: 8,
  cameraRotationDeg: 2,
  cameraScale: 0.03,
  registrationQuality: 0.9,
  registrationDeadbandPx: 0.5,
};

const motionLimits = (th: Thresholds): MotionLimits => ({ shiftPx: th.cameraShiftPx, rotationDeg: th.cameraRotationDeg, scale: th.cameraScale, minQuality: th.registrationQuality, deadbandPx: th.registrationDeadbandPx });

export interface ModelManifest {
  modelVersion: string;
  files: Record<string, string>;
  thresholds: Thresholds;
  enrolment?: { seedBase: number; shotsPerSkuAndCamera: number; [key: string]: unknown };
  [section: string]: unknown;
}

export interface ModelBundle {
  manifest: ModelManifest;
  modelPath: string;
  gallery: GalleryData;
}

export function loadBundle(modelDir: string, opts: { verify?: boolean } = {}): ModelBundle {
  const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as ModelManifest;
  const modelPath = join(modelDir, 'embedder.onnx');
  if (opts.verify !== false) {
    for (const [file, sha] of Object.entries(manifest.files)) {
      const actual = createHash('sha256').update(readFileSync(join(modelDir, file))).digest('hex');
      if (actual !== sha) throw new Error(`${file}: sha256 ${actual} does not match the manifest (${sha})`);
    }
  }
  const gallery = JSON.parse(readFileSync(join(modelDir, 'gallery.json'), 'utf8')) as GalleryData;
  return { manifest, modelPath, gallery };
}

interface CameraView {
  camera: string;
  /** Shelf → before-frame pixels: the camera's calibration. */
  affine: Affine;
  /** Shelf → after-frame pixels: the calibration followed by the camera's motion between the snapshots. */
  afterAffine: Affine;
  before: DecodedFrame | null;
  after: DecodedFrame | null;
}

const box = (m: Affine, r: Rect): { x: number; y: number; w: number; h: number } => {
  const pts = [applyAffine(m, r.x, r.y), applyAffine(m, r.x + r.w, r.y), applyAffine(m, r.x, r.y + r.h), applyAffine(m, r.x + r.w, r.y + r.h)];
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x: Math.round(x), y: Math.round(y), w: Math.round(Math.max(...xs) - x), h: Math.round(Math.max(...ys) - y) };
};

/**
 * The recogniser core: one embedding session, the gallery and the thresholds. `recognise` decodes each
 * snapshot once, crops every facing, keeps the facings that changed, embeds them in one batch, matches,
 * fuses the cameras and decides. Expected failures (missing or unreadable frames, occlusion) come back as a
 * `needs_review` result, never as an exception.
 */
export class RecogniserCore {
  constructor(
    private readonly embedder: Embedder,
    readonly gallery: Gallery,
    readonly thresholds: Thresholds,
    readonly modelVersion: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Brand family per SKU: look-alike flavours share one. Grows when SKUs are enrolled. */
    readonly families: Map<string, string>,
  ) {}

  static async load(bundle: ModelBundle, deps: { clock: Clock; log: Logger; threads?: number; catalogue: readonly ProductSpec[] }): Promise<RecogniserCore> {
    const embedder = await loadEmbedder(bundle.modelPath, { threads: deps.threads ?? 1 });
    const gallery = new Gallery(bundle.gallery.dim, bundle.manifest.thresholds.scale, bundle.gallery.prototypes);
    const families = new Map(deps.catalogue.map((p) => [p.sku, p.brand]));
    return new RecogniserCore(embedder, gallery, { ...DEFAULT_THRESHOLDS, ...bundle.manifest.thresholds }, bundle.manifest.modelVersion, deps.clock, deps.log, families);
  }

  embed(crops: Uint8Array, n: number): Promise<Float32Array> {
    return this.embedder.embed(crops, n);
  }

  async release(): Promise<void> {
    await this.embedder.release();
  }

  async recognise(input: VisitEvidence): Promise<RecognitionResult> {
    const t0 = this.clock.now();
    const parsed = VisitEvidence.safeParse(input);
    if (!parsed.success) return this.review(input.visitId ?? 'unknown', [{ code: 'bad_evidence', detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') }], t0);
    const visit = parsed.data;
    const th = this.thresholds;
    const reasons: Reason[] = [];
    const layout = shelfLayout(visit.lanes);

    // The latest snapshot per camera and phase; a repeated (camera, seq) is the same frame.
    const chosen = new Map<string, VisitFrame>();
    for (const f of visit.frames) {
      if (f.phase === 'during') continue;
      const key = `${f.camera}|${f.phase}`;
      const prev = chosen.get(key);
      if (!prev || f.seq > prev.seq) chosen.set(key, f);
    }
    const framesEvidence: RecognitionResult['evidence']['frames'] = [];
    const tDecode = this.clock.now();
    const views: CameraView[] = await Promise.all(
      visit.cameras.map(async (camera) => {
        const get = async (phase: FramePhase): Promise<DecodedFrame | null> => {
          const f = chosen.get(`${camera}|${phase}`);
          if (!f) {
            reasons.push({ code: 'missing_frames', detail: `no ${phase} frame from camera ${camera}` });
            return null;
          }
          const ok = await decodeJpeg(f.jpeg).then(
            (d) => {
              const s = frameStats(d);
              return s.mean >= th.minMean && s.mean <= th.maxMean && s.std >= th.minStd ? d : null;
            },
            () => null,
          );
          framesEvidence.push({ camera, seq: f.seq, phase, readable: ok !== null });
          if (!ok) reasons.push({ code: 'unreadable_frame', detail: `${phase} frame ${f.seq} of camera ${camera} cannot be read` });
          return ok;
        };
        const [before, after] = await Promise.all([get('before'), get('after')]);
        const ref = before ?? after;
        const affine = cameraAffine(camera, layout.width, layout.height, ref?.width, ref?.height);
        return { camera, before, after, affine, afterAffine: affine };
      }),
    );
    const decodeMs = this.clock.now() - tDecode;

    // Registration: each after frame against its camera's before frame. A shake within the limits is corrected
    // (the after crops go through calibration ∘ motion); a camera that moved further holds the visit. One whose
    // after frame cannot be aligned at all is not read, like an unreadable frame.
    const tRegister = this.clock.now();
    const limits = motionLimits(th);
    const lost = new Set<string>();
    for (const v of views) {
      if (!v.before || !v.after) continue;
      if (v.before.width !== v.after.width || v.before.height !== v.after.height) {
        reasons.push({ code: 'camera_moved', detail: `camera ${v.camera} changed its frame size: the after frame is ${v.after.width}×${v.after.height}, the before frame ${v.before.width}×${v.before.height}; recalibrate` });
        lost.add(v.camera);
        continue;
      }
      const alignment = judgeMotion(register(regPyramid(v.after), regPyramid(v.before)), limits);
      const reg = alignment.registration;
      if (alignment.status === 'aligned') {
        v.afterAffine = composeAffine(alignment.affine, v.affine);
        continue;
      }
      const what = alignment.why === 'beyond_limits' ? 'moved between the snapshots' : 'moved: its after frame cannot be aligned to its before frame';
      reasons.push({ code: 'camera_moved', detail: `camera ${v.camera} ${what} (${alignment.detail}); recalibrate` });
      this.log.warn({ visitId: visit.visitId, cabinetId: visit.cabinetId, camera: v.camera, why: alignment.why, motion: reg.motion, quality: reg.quality }, 'camera moved between the snapshots; recalibrate');
      // A measured motion still gives the reviewer a reading through it; an unaligned frame is not read.
      if (alignment.why === 'beyond_limits') v.afterAffine = composeAffine(reg.affine, v.affine);
      else lost.add(v.camera);
    }
    const registerMs = this.clock.now() - tRegister;
    const usable = views.filter((v) => v.before && v.after && !lost.has(v.camera));
    if (usable.length === 0) return this.review(visit.visitId, reasons.length ? reasons : [{ code: 'missing_frames', detail: 'no camera has both snapshots' }], t0, framesEvidence, decodeMs, registerMs);

    // Gate: a cheap look at every facing (block means sampled from the decoded frames), per camera; only the
    // facings that changed in every usable camera are cropped and embedded.
    const tCrop = this.clock.now();
    const diffs = usable.map((v) => facingDiffs(v.before as DecodedFrame, v.after as DecodedFrame, v.affine, layout, v.afterAffine));
    const changed: Array<{ cell: LaneCell; slot: number; k: number }> = [];
    let k = 0;
    let slotsTotal = 0;
    for (const cell of layout.cells) {
      for (let i = 0; i < cell.capacity; i++, k++) if (diffs.every((d) => (d[k] as number) > th.gate)) changed.push({ cell, slot: i, k });
      slotsTotal += cell.capacity;
    }
    if (changed.length > slotsTotal * 0.9) reasons.push({ code: 'too_many_changes', detail: `${changed.length} of ${slotsTotal} facings changed; a camera may have moved` });

    // Crop the changed facings of every usable camera, before and after, into one batch.
    const n = changed.length * usable.length * 2;
    const batch = new Uint8Array(n * CROP_BYTES);
    changed.forEach((c, ci) => {
      usable.forEach((v, vi) => {
        const j = (ci * usable.length + vi) * 2;
        const rect = slotRect(c.cell, c.slot);
        cropSlot(v.before as DecodedFrame, v.affine, rect, batch, j * CROP_BYTES);
        cropSlot(v.after as DecodedFrame, v.afterAffine, rect, batch, (j + 1) * CROP_BYTES);
      });
    });
    const cropMs = this.clock.now() - tCrop;

    // One session run for the whole visit.
    const tEmbed = this.clock.now();
    const emb = await this.embedder.embed(batch, n);
    const embedMs = this.clock.now() - tEmbed;
    const dim = this.gallery.dim;
    const laneById = new Map(visit.lanes.map((l) => [l.laneId, l]));
    const readings: SlotReading[] = changed.map((c, ci) => ({
      laneId: c.cell.laneId,
      slot: c.slot,
      planogramSku: laneById.get(c.cell.laneId)?.sku ?? '',
      views: usable.map((v, vi): ViewReading => {
        const j = (ci * usable.length + vi) * 2;
        return { camera: v.camera, diff: (diffs[vi] as Float32Array)[c.k] as number, before: this.gallery.match(emb, j * dim), after: this.gallery.match(emb, (j + 1) * dim) };
      }),
    }));
    for (const r of readings) {
      const lane = laneById.get(r.laneId);
      if (lane && !this.gallery.has(lane.sku)) reasons.push({ code: 'not_enrolled', detail: `${lane.sku} in ${lane.laneId} has no enrolment shots` });
    }
    const labels = this.gallery.allLabels();
    const families = labels.map((l) => this.families.get(l) ?? l);
    const d = decide(readings, { labels, families, settleThreshold: th.settle, offPlanogramThreshold: th.offPlanogram, occludedP: th.occludedP, offPlanogramPrior: th.offPlanogramPrior }, reasons);
    const slotsEvidence: SlotEvidence[] = d.slots.map((s, i) => {
      const r = readings[i] as SlotReading;
      const cell = changed[i]?.cell as LaneCell;
      return {
        laneId: s.laneId,
        slot: s.slot,
        before: s.before,
        after: s.after,
        confidence: round(s.confidence),
        views: r.views.map((v, vi) => ({
          camera: v.camera,
          box: box((usable[vi] as CameraView).affine, slotRect(cell, s.slot)),
          before: v.before ? this.gallery.top(v.before).map(roundMatch) : [],
          after: v.after ? this.gallery.top(v.after).map(roundMatch) : [],
          diff: round(v.diff),
        })),
      };
    });
    const result: RecognitionResult = {
      visitId: visit.visitId,
      status: d.status,
      items: d.items,
      confidence: d.confidence,
      reasons: dedupe(d.reasons),
      evidence: {
        frames: framesEvidence,
        slots: slotsEvidence,
        lanesChanged: [...new Set(d.slots.filter((s) => s.before !== s.after).map((s) => s.laneId))],
        timings: { decodeMs, registerMs, cropMs, embedMs, totalMs: this.clock.now() - t0 },
      },
      modelVersion: this.modelVersion,
    };
    this.log.debug({ visitId: visit.visitId, status: result.status, items: result.items, confidence: result.confidence, changed: changed.length }, 'visit recognised');
    return result;
  }

  private review(visitId: string, reasons: Reason[], t0: number, frames: RecognitionResult['evidence']['frames'] = [], decodeMs = 0, registerMs = 0): RecognitionResult {
    return {
      visitId,
      status: 'needs_review',
      items: [],
      confidence: 0,
      reasons: dedupe(reasons),
      evidence: { frames, slots: [], lanesChanged: [], timings: { decodeMs, registerMs, cropMs: 0, embedMs: 0, totalMs: this.clock.now() - t0 } },
      modelVersion: this.modelVersion,
    };
  }
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;
const roundMatch = (m: { label: string; p: number }): { label: string; p: number } => ({ label: m.label, p: round(m.p) });
const dedupe = (rs: Reason[]): Reason[] => {
  const seen = new Set<string>();
  return rs.filter((r) => {
    const key = `${r.code}|${r.detail}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};
