import sharp from 'sharp';
import { AppError } from '../../common/errors';
import { CROP_BYTES, CROP_H, CROP_W } from './crop';

/**
 * Operator photos of a product → model crops → one prototype per photo. A photo is one upright product
 * filling the frame (as it stands in a facing); it is resized to the crop the recogniser cuts from a facing
 * (CROP_W×CROP_H RGB), covering the crop and centred, so the few pixels lost are at the edges of the photo and
 * not in the product's middle. No retraining: the photos only become gallery prototypes.
 */
export const MIN_PHOTO_W = 16;
export const MIN_PHOTO_H = 32;
/** More than a few dozen photos is not an enrolment but a data set; it would also hold one session long. */
export const MAX_PHOTOS = 32;

/** Why a batch of photos cannot be enrolled. Closed union; `photo` names the offending photo (0-based). */
export type PhotoProblem =
  | { reason: 'no_photos' }
  | { reason: 'too_many'; count: number; max: number }
  | { reason: 'unreadable'; photo: number; cause: string }
  | { reason: 'too_small'; photo: number; width: number; height: number };

/**
 * A photo the recogniser cannot use. A `BAD_REQUEST` of the one error catalogue, so the HTTP edge answers 400
 * with the problem in `details` and the operator knows which photo to replace.
 */
export class PhotoError extends AppError {
  constructor(readonly problem: PhotoProblem) {
    super('BAD_REQUEST', describe(problem), problem);
    this.name = 'PhotoError';
  }
}

function describe(p: PhotoProblem): string {
  switch (p.reason) {
    case 'no_photos':
      return 'no photos to enrol';
    case 'too_many':
      return `${p.count} photos; at most ${p.max} per enrolment`;
    case 'unreadable':
      return `photo ${p.photo} is not a readable JPEG, PNG or WebP image (${p.cause})`;
    case 'too_small':
      return `photo ${p.photo} is ${p.width}×${p.height} px; it must be at least ${MIN_PHOTO_W}×${MIN_PHOTO_H} px`;
  }
}

/**
 * Decodes and resizes each photo to one HWC uint8 crop, in order, for `Embedder.embed(crops, images.length)`.
 * EXIF orientation is applied first (phones store portraits sideways). Throws `PhotoError` for the first photo
 * that cannot be used; nothing is returned for a partly good batch, so an enrolment is all its photos or none.
 */
export async function photoCrops(images: readonly Buffer[]): Promise<Uint8Array> {
  if (images.length === 0) throw new PhotoError({ reason: 'no_photos' });
  if (images.length > MAX_PHOTOS) throw new PhotoError({ reason: 'too_many', count: images.length, max: MAX_PHOTOS });
  const out = new Uint8Array(images.length * CROP_BYTES);
  for (const [photo, image] of images.entries()) {
    const crop = await cropOf(image, photo);
    out.set(crop, photo * CROP_BYTES);
  }
  return out;
}

const PHOTO_FORMATS: readonly string[] = ['jpeg', 'png', 'webp'];

async function cropOf(image: Buffer, photo: number): Promise<Buffer> {
  const upright = sharp(image, { failOn: 'error' }).autoOrient();
  const meta = await upright.metadata().catch((e: unknown) => {
    throw new PhotoError({ reason: 'unreadable', photo, cause: e instanceof Error ? e.message : String(e) });
  });
  if (!PHOTO_FORMATS.includes(meta.format)) throw new PhotoError({ reason: 'unreadable', photo, cause: `${meta.format} is not taken` });
  const { width, height } = meta.autoOrient;
  if (width < MIN_PHOTO_W || height < MIN_PHOTO_H) throw new PhotoError({ reason: 'too_small', photo, width, height });
  const { data, info } = await upright
    .resize(CROP_W, CROP_H, { fit: 'cover', position: 'centre' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((e: unknown) => {
      throw new PhotoError({ reason: 'unreadable', photo, cause: e instanceof Error ? e.message : String(e) });
    });
  if (info.width !== CROP_W || info.height !== CROP_H || info.channels !== 3) throw new PhotoError({ reason: 'unreadable', photo, cause: `decoded to ${info.width}×${info.height}×${info.channels}` });
  return data;
}

/**
 * One prototype per photo: row `k` of the `n`×`dim` embeddings, normalised. Photos are not averaged — each is
 * a different view (light, angle), and the gallery matches a facing against its best prototype.
 */
export function prototypesFrom(embeddings: Float32Array, n: number, dim: number): number[][] {
  if (embeddings.length < n * dim) throw new RangeError(`${embeddings.length} values for ${n} embeddings of ${dim}`);
  return Array.from({ length: n }, (_, k) => {
    const row = Array.from(embeddings.subarray(k * dim, (k + 1) * dim));
    const norm = Math.hypot(...row) || 1;
    return row.map((x) => x / norm);
  });
}
