import { Sku } from '../../contracts/domain';
import { EMPTY, OCCLUDED } from '../recognition/gallery';
import { lookAlikeOf, separationOf, type LookAlikeReport } from '../recognition/lookalike';
import { photoCrops, prototypesFrom } from '../recognition/photos';
import type { RecogniserCore } from '../recognition/recogniser';

/**
 * Enrolment of new products into a running pool, without retraining and without a restart: photos become one
 * prototype each, the look-alike check compares them with the gallery, and `apply` puts them into the gallery
 * of every worker. The service persists what `apply` was given together with `modelVersion` (embeddings are
 * only comparable within one model) and applies it again at start; a new model enrols the stored photos anew.
 */
export interface RecognitionEnrolment {
  /** The model the vectors belong to. */
  readonly modelVersion: string;
  /** The model's separation (lookalike.ts), from the gallery shipped with the model: the same on every start. */
  readonly separation: number;
  /** SKU labels in the gallery (shipped and enrolled), without the pseudo labels. */
  enrolled(): string[];
  /**
   * One unit vector per photo, in order, embedded on one worker's session (sessions take concurrent runs; a
   * visit on that worker waits for at most this one batch). Throws `PhotoError` naming an unusable photo.
   */
  embedPhotos(images: readonly Buffer[]): Promise<number[][]>;
  /** The look-alike report of `vectors` as `sku` against every other product in the gallery now. */
  check(sku: string, vectors: ReadonlyArray<ArrayLike<number>>): LookAlikeReport;
  /**
   * Sets `sku`'s prototypes (replacing earlier ones) and brand family on every worker. Synchronous, so every
   * worker changes between two event-loop turns: a visit in flight matches after its last await, so it decides
   * with the old gallery or the new one, never a mix. Throws RangeError for a pseudo label or bad vectors, before
   * any worker changed.
   */
  apply(sku: string, brand: string, vectors: ReadonlyArray<ArrayLike<number>>): void;
}

export function enrolmentFor(cores: readonly RecogniserCore[]): RecognitionEnrolment {
  const first = cores[0];
  if (!first) throw new Error('enrolment needs at least one recogniser');
  // Before any enrolment and without the catalogue's families: the bar belongs to the model version, not to
  // what a deployment sells or has enrolled since.
  const separation = separationOf(first.gallery);
  return {
    modelVersion: first.modelVersion,
    separation,
    enrolled: () => first.gallery.allLabels().filter((l) => l !== EMPTY && l !== OCCLUDED),
    embedPhotos: async (images) => {
      const crops = await photoCrops(images);
      return prototypesFrom(await first.embed(crops, images.length), images.length, first.gallery.dim);
    },
    check: (sku, vectors) => lookAlikeOf(first.gallery, sku, vectors, separation),
    apply: (sku, brand, vectors) => {
      if (!Sku.safeParse(sku).success) throw new RangeError(`${JSON.stringify(sku)} is not a SKU that can be enrolled`);
      if (brand.length === 0) throw new RangeError(`${sku}: a brand family is needed`);
      // The first gallery checks the vectors before it changes; the others have the same width, so they cannot fail.
      for (const core of cores) {
        core.gallery.set(sku, vectors);
        core.families.set(sku, brand);
      }
    },
  };
}
