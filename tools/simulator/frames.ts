import type { FramePhase } from '../../contracts/cabinet-protocol';
import type { Lane, ProductSpec } from '../../contracts/domain';
import type * as Vision from '../../vision';
import { PLACEHOLDER_JPEG, withComment } from './jpeg';

/** Everything a camera knows when it takes one picture. */
export interface FrameContext {
  cabinetId: string;
  camera: string;
  visitId: string;
  seq: number;
  phase: FramePhase;
  ts: number;
  /** The shelf as it stands at this moment (after the shopper's takes for `after`). */
  lanes: readonly Lane[];
  /** Stable per cabinet, so before and after pictures of one visit agree on everything that did not move. */
  sceneSeed: number;
  jpegQuality: number;
}

/** Produces a frame's JPEG bytes. */
export type FrameSource = (ctx: FrameContext) => Buffer | Promise<Buffer>;

/** The default: one tiny shared grey JPEG with the frame's identity in a COM segment. */
export const placeholderFrames: FrameSource = (c) => withComment(PLACEHOLDER_JPEG, `cabinet=${c.cabinetId} camera=${c.camera} visit=${c.visitId} seq=${c.seq} phase=${c.phase} ts=${c.ts}`);

/**
 * Shelf renders from vision/ (`renderShelf`), showing the lane counts, so the recogniser sees what was taken.
 * Loaded on demand: it brings sharp and onnxruntime, which a 10,000-cabinet run does not want.
 */
export function visionFrames(opts: { catalogue?: () => readonly ProductSpec[] } = {}): FrameSource {
  // A plain require keeps this lazy in the CommonJS build that tsx and jest both run.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vision = require('../../vision') as typeof Vision;
  return (c) =>
    vision.renderShelf({
      lanes: c.lanes.map((l) => ({ laneId: l.laneId, sku: l.sku, capacity: l.capacity, count: l.count })),
      camera: c.camera,
      seed: c.sceneSeed,
      frameSeed: (c.sceneSeed ^ Math.imul(c.seq + 1, 0x9e3779b1) ^ (c.phase === 'before' ? 1 : c.phase === 'during' ? 2 : 3)) >>> 0,
      nuisance: c.phase === 'during' ? { hands: 1, jpegQuality: c.jpegQuality } : { jpegQuality: c.jpegQuality },
      // The packaging of products added to the catalogue after the demo (the demo catalogue otherwise).
      ...(opts.catalogue ? { catalogue: opts.catalogue() } : {}),
    });
}
