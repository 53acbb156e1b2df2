import { createHash } from 'node:crypto';
import type { Clock } from '../common/clock';
import { AppError } from '../common/errors';
import type { Logger } from '../common/log';
import { can, type Principal } from '../contracts/admin-api';
import type { EnrolmentRow, EnrolmentsResponse, EnrolRequest } from '../contracts/catalogue-api';
import type { Models } from '../store/models';
import type { EnrolmentDoc, ProductPhotoDoc } from '../store/models/enrolment';
import type { ProductDoc } from '../store/models/catalogue';

/** What enrolment needs of the recognition pool (vision's RecognitionEnrolment). */
export interface GalleryPort {
  readonly modelVersion: string;
  readonly separation: number;
  /** SKUs the gallery can tell now (shipped with the model or enrolled since). */
  enrolled(): readonly string[];
  /** One embedding per photo; throws vision's PhotoError for a photo it cannot read. */
  embedPhotos(images: Buffer[]): Promise<number[][]>;
  check(sku: string, vectors: number[][]): { gap: number; separation: number; lookAlike: boolean; nearest: Array<{ sku: string; similarity: number }> };
  /** Replaces the SKU's prototypes on every recognition worker. */
  apply(sku: string, brand: string, vectors: number[][]): void;
}

/** A stored photo's bytes: a Buffer as written, a BSON Binary as a lean read gives it back. */
function bytesOf(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  const bin = data as { read?: (at: number, n: number) => Uint8Array; length?: () => number };
  if (typeof bin.read === 'function' && typeof bin.length === 'function') return Buffer.from(bin.read(0, bin.length()));
  return Buffer.from(data as Uint8Array);
}

const isPhotoError = (e: unknown): e is Error & { problem?: unknown } => e instanceof Error && e.name === 'PhotoError';

/**
 * Product photos into the recogniser's gallery, without retraining. The photos are kept (a new model enrols
 * them again at start-up: embeddings are only comparable within one model) and the prototypes are stored
 * per model version, so every start brings back what was enrolled and every worker of the pool gets it at
 * once (`GalleryPort.apply`). An enrolment that sits closer to another product than the model's separation
 * is flagged as a look-alike (the console shows it; such products are told apart only by a clear margin, so
 * expect more visits held for review). Audited.
 */
export class EnrolmentService {
  constructor(private readonly d: { models: Pick<Models, 'Product' | 'ProductPhoto' | 'Enrolment' | 'Audit'>; gallery: GalleryPort; clock: Clock; log: Logger }) {}

  /** At start: this model's stored enrolments into the gallery, and photos enrolled under an older model embedded again. */
  async restore(): Promise<{ restored: number; reenrolled: number }> {
    const { models, gallery } = this.d;
    const mine = await models.Enrolment.find({ modelVersion: gallery.modelVersion }).lean<EnrolmentDoc[]>();
    const brands = await this.brands();
    for (const e of mine) gallery.apply(e.sku, brands.get(e.sku) ?? e.sku, e.prototypes.map((p) => p.v));
    const done = new Set(mine.map((e) => e.sku));
    const older = (await models.Enrolment.find({}, { sku: 1, modelVersion: 1, enrolledBy: 1 }).lean<Array<Pick<EnrolmentDoc, 'sku' | 'modelVersion' | 'enrolledBy'>>>()).filter((e) => !done.has(e.sku));
    let reenrolled = 0;
    for (const sku of new Set(older.map((e) => e.sku))) {
      const photos = await models.ProductPhoto.find({ sku }).lean<ProductPhotoDoc[]>();
      if (!photos.length) {
        this.d.log.warn({ sku, modelVersion: gallery.modelVersion }, 'enrolled under an older model and no photos are stored: enrol its photos again');
        continue;
      }
      try {
        await this.enrolStored(sku, photos, older.find((e) => e.sku === sku)?.enrolledBy ?? 'start-up');
        reenrolled++;
      } catch (e) {
        this.d.log.error({ sku, err: e instanceof Error ? e.message : String(e) }, 'stored photos not enrolled under this model');
      }
    }
    return { restored: mine.length, reenrolled };
  }

  async list(p: Principal): Promise<EnrolmentsResponse> {
    if (!can(p, 'fleet.view')) throw new AppError('FORBIDDEN', `role ${p.role} may not view the catalogue`);
    const rows = await this.d.models.Enrolment.find({ modelVersion: this.d.gallery.modelVersion }).lean<EnrolmentDoc[]>();
    const enrolled = new Set(rows.map((r) => r.sku));
    return { modelVersion: this.d.gallery.modelVersion, separation: this.d.gallery.separation, shipped: this.d.gallery.enrolled().filter((s) => !enrolled.has(s)), enrolments: rows.map(rowOf).sort((a, b) => a.sku.localeCompare(b.sku)) };
  }

  async get(p: Principal, sku: string): Promise<EnrolmentRow> {
    if (!can(p, 'fleet.view')) throw new AppError('FORBIDDEN', `role ${p.role} may not view the catalogue`);
    const doc = await this.d.models.Enrolment.findOne({ _id: `${sku}:${this.d.gallery.modelVersion}` }).lean<EnrolmentDoc>();
    if (!doc) throw new AppError('NOT_FOUND', `${sku} has no enrolment under model ${this.d.gallery.modelVersion}`);
    return rowOf(doc);
  }

  /** The photo as uploaded (the console's gallery). */
  async photo(p: Principal, sku: string, photoId: string): Promise<{ contentType: string; data: Buffer }> {
    if (!can(p, 'fleet.view')) throw new AppError('FORBIDDEN', `role ${p.role} may not view the catalogue`);
    const doc = await this.d.models.ProductPhoto.findOne({ _id: photoId }).lean<ProductPhotoDoc>();
    if (!doc || doc.sku !== sku) throw new AppError('NOT_FOUND', `no photo ${photoId} of ${sku}`);
    return { contentType: doc.contentType, data: bytesOf(doc.data) };
  }

  /** New photos replace the product's earlier ones; its prototypes are replaced on every worker. */
  async enrol(p: Principal, sku: string, req: EnrolRequest): Promise<EnrolmentRow> {
    if (!can(p, 'catalogue.edit')) throw new AppError('FORBIDDEN', `role ${p.role} may not enrol products`);
    const product = await this.d.models.Product.findOne({ sku }, { sku: 1 }).lean();
    if (!product) throw new AppError('NOT_FOUND', `no product ${sku}`);
    const at = new Date(this.d.clock.now());
    const photos: ProductPhotoDoc[] = req.photos.map((ph) => {
      const data = Buffer.from(ph.dataBase64, 'base64');
      return { _id: `${sku}:${createHash('sha256').update(data).digest('hex').slice(0, 16)}`, sku, contentType: ph.contentType, data, uploadedBy: p.id, uploadedAt: at };
    });
    // Embedded before anything is stored (an unreadable photo changes nothing); the new photos are stored
    // before the enrolment that names them, and the old ones deleted last, so a failure anywhere leaves
    // photos enough to enrol again.
    const vectors = await this.embed(photos);
    for (const ph of photos) await this.d.models.ProductPhoto.updateOne({ _id: ph._id }, { $setOnInsert: ph }, { upsert: true });
    const row = await this.store(sku, photos, vectors, p.id);
    await this.d.models.ProductPhoto.deleteMany({ sku, _id: { $nin: photos.map((x) => x._id) } });
    await this.d.models.Audit.create({ at, actorId: p.id, actorRole: p.role, action: 'product.enrol', objectType: 'product', objectId: sku, before: null, after: { photos: photos.length, modelVersion: row.modelVersion, lookAlike: row.lookAlike, nearest: row.nearest } });
    return row;
  }

  private async enrolStored(sku: string, photos: readonly ProductPhotoDoc[], by: string): Promise<EnrolmentRow> {
    return this.store(sku, photos, await this.embed(photos), by);
  }

  private async embed(photos: readonly ProductPhotoDoc[]): Promise<number[][]> {
    try {
      return await this.d.gallery.embedPhotos(photos.map((ph) => bytesOf(ph.data)));
    } catch (e) {
      if (isPhotoError(e)) throw new AppError('PHOTO_UNREADABLE', e.message, e.problem);
      throw e;
    }
  }

  /** The enrolment stored, then given to every worker: a restart brings back exactly what the workers were given. */
  private async store(sku: string, photos: readonly ProductPhotoDoc[], vectors: number[][], by: string): Promise<EnrolmentRow> {
    const { gallery, models } = this.d;
    const brand = (await this.brands()).get(sku) ?? sku;
    const report = gallery.check(sku, vectors);
    const doc: EnrolmentDoc = { _id: `${sku}:${gallery.modelVersion}`, sku, modelVersion: gallery.modelVersion, prototypes: vectors.map((v) => ({ v })), photoIds: photos.map((ph) => ph._id), gap: report.gap, separation: report.separation, lookAlike: report.lookAlike, nearest: report.nearest, enrolledBy: by, enrolledAt: new Date(this.d.clock.now()) };
    await models.Enrolment.replaceOne({ _id: doc._id }, doc, { upsert: true });
    gallery.apply(sku, brand, vectors);
    this.d.log.info({ sku, photos: photos.length, modelVersion: gallery.modelVersion, lookAlike: report.lookAlike, gap: Number(report.gap.toFixed(3)) }, 'product enrolled');
    return rowOf(doc);
  }

  private async brands(): Promise<Map<string, string>> {
    const docs = await this.d.models.Product.find({}, { sku: 1, brand: 1 }).lean<Array<Pick<ProductDoc, 'sku' | 'brand'>>>();
    return new Map(docs.map((x) => [x.sku, x.brand]));
  }
}

function rowOf(d: EnrolmentDoc): EnrolmentRow {
  return { sku: d.sku, modelVersion: d.modelVersion, photoIds: d.photoIds, gap: d.gap, separation: d.separation, lookAlike: d.lookAlike, nearest: d.nearest.map((n) => ({ sku: n.sku, similarity: n.similarity })), enrolledBy: d.enrolledBy, enrolledAt: d.enrolledAt.getTime() };
}
