/**
 * vision/: the only code that imports onnxruntime and sharp.
 *
 * - `createRecogniser` loads the committed model (vision/model) and answers "what left the cabinet in this
 *   visit?" from the before/after snapshots of every camera: the taken multiset with per-item and per-visit
 *   confidence, or `needs_review` with reasons, plus the evidence for the review console.
 * - `renderShelf` draws a camera's JPEG of a shelf for the cabinet simulator.
 * - `createRecognitionPool` (vision/pipeline) runs recognisers as a bounded pool fed by RxJS frame streams; its
 *   `enrolment` turns an operator's product photos into gallery prototypes on every worker (no retraining, no
 *   restart) and flags a product that looks like one already known.
 */
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import type { ProductSpec } from '../contracts/domain';
import { DEMO_CATALOGUE } from '../contracts/demo-data';
import { enrolProducts } from './recognition/enrol';
import { RecogniserCore, loadBundle, type Thresholds } from './recognition/recogniser';
import type { RecognitionResult, VisitEvidence } from './recognition.types';
import { SEED_BASE } from './training/splits';

export type { RecognitionResult, VisitEvidence, VisitFrame, RecognisedItem, ReasonCode, SlotEvidence } from './recognition.types';
export { renderShelf, type RenderShelfOptions, type ShelfLaneState, type Nuisance, type NuisanceLevel } from './render/scene';
export { simulateVisit, type SimVisit, type SimOptions } from './sim/visits';
export type { Thresholds } from './recognition/recogniser';
export { createRecognitionPool, type RecognitionPoolHandle } from './pipeline/create';
export type { RecognitionEnrolment } from './pipeline/enrolment';
export type { RecognitionPool, SubmitOutcome, PoolStats } from './pipeline/pool';
export type { LookAlikeReport } from './recognition/lookalike';
export { PhotoError, MAX_PHOTOS, MIN_PHOTO_H, MIN_PHOTO_W, type PhotoProblem } from './recognition/photos';

/** Where the committed model lives. */
export const DEFAULT_MODEL_DIR = `${__dirname}/model`;

export interface RecogniserDeps {
  modelDir?: string;
  log: Logger;
  clock: Clock;
  /** onnxruntime intra-op threads for this recogniser's session (pool workers use 1). */
  threads?: number;
  /** Override thresholds from the manifest (tests, tuning). */
  thresholds?: Partial<Thresholds>;
  /** The products the cabinets may hold (their brand families tell look-alikes apart); the demo catalogue by default. */
  catalogue?: readonly ProductSpec[];
}

export interface Recogniser {
  readonly modelVersion: string;
  /** Never throws for bad or missing frames: those come back as `needs_review` with reasons. */
  recognise(visit: VisitEvidence): Promise<RecognitionResult>;
  /**
   * Adds SKUs by enrolment shots (rendered stand-ins for photos of a restocked shelf); no retraining. SKUs already
   * enrolled get more prototypes.
   */
  enrol(products: readonly ProductSpec[]): Promise<void>;
  close(): Promise<void>;
}

export async function createRecogniser(deps: RecogniserDeps): Promise<Recogniser> {
  const bundle = loadBundle(deps.modelDir ?? DEFAULT_MODEL_DIR);
  if (deps.thresholds) bundle.manifest.thresholds = { ...bundle.manifest.thresholds, ...deps.thresholds };
  const catalogue = deps.catalogue ?? DEMO_CATALOGUE;
  const core = await RecogniserCore.load(bundle, { clock: deps.clock, log: deps.log.child({ unit: 'recogniser' }), threads: deps.threads, catalogue });
  return {
    modelVersion: core.modelVersion,
    recognise: (visit) => core.recognise(visit),
    enrol: async (products) => {
      for (const p of products) core.families.set(p.sku, p.brand);
      await enrolProducts(core.gallery, (c, n) => core.embed(c, n), products, { seedBase: bundle.manifest.enrolment?.seedBase ?? SEED_BASE.enrol, shots: bundle.manifest.enrolment?.shotsPerSkuAndCamera ?? 6, catalogue: [...catalogue, ...products] });
    },
    close: () => core.release(),
  };
}
