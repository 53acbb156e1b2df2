import { Schema, type Connection } from 'mongoose';

/** A photo of a product an operator uploaded for enrolment, kept so a new model can enrol it again. */
export interface ProductPhotoDoc {
  _id: string;
  sku: string;
  contentType: string;
  data: Buffer;
  uploadedBy: string;
  uploadedAt: Date;
}

/**
 * A product's prototypes in the recogniser's gallery for one model version, keyed `<sku>:<modelVersion>`:
 * embeddings are only comparable within a model, so a new model enrols the stored photos again.
 */
export interface EnrolmentDoc {
  _id: string;
  sku: string;
  modelVersion: string;
  /** One vector per photo, each wrapped in an object: FerretDB v1 stores no arrays of arrays. */
  prototypes: Array<{ v: number[] }>;
  photoIds: string[];
  /** The look-alike check at enrolment: the gap to the nearest other product against the model's separation. */
  gap: number;
  separation: number;
  lookAlike: boolean;
  nearest: Array<{ sku: string; similarity: number }>;
  enrolledBy: string;
  enrolledAt: Date;
}

export const productPhotoSchema = new Schema<ProductPhotoDoc>(
  { _id: { type: String, required: true }, sku: { type: String, required: true }, contentType: { type: String, required: true }, data: { type: Buffer, required: true }, uploadedBy: { type: String, required: true }, uploadedAt: { type: Date, required: true } },
  { collection: 'product_photos' },
);
productPhotoSchema.index({ sku: 1 });

export const enrolmentSchema = new Schema<EnrolmentDoc>(
  {
    _id: { type: String, required: true },
    sku: { type: String, required: true },
    modelVersion: { type: String, required: true },
    prototypes: { type: [new Schema({ v: [Number] }, { _id: false })], default: [] },
    photoIds: { type: [String], default: [] },
    gap: Number,
    separation: Number,
    lookAlike: { type: Boolean, default: false },
    nearest: { type: [new Schema({ sku: String, similarity: Number }, { _id: false })], default: [] },
    enrolledBy: { type: String, required: true },
    enrolledAt: { type: Date, required: true },
  },
  { collection: 'enrolments' },
);
enrolmentSchema.index({ modelVersion: 1 });

export function enrolmentModels(conn: Connection) {
  return { ProductPhoto: conn.model<ProductPhotoDoc>('ProductPhoto', productPhotoSchema), Enrolment: conn.model<EnrolmentDoc>('Enrolment', enrolmentSchema) };
}
