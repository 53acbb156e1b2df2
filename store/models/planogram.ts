import { Schema, type Connection } from 'mongoose';

/** A lane as a planogram version has it (no count: counts are the cabinet's, contracts/planogram.ts). */
export interface PlanogramLaneDoc {
  laneId: string;
  sku: string;
  capacity: number;
  par?: number;
}

/**
 * One version of a cabinet's planogram, keyed `<cabinetId>:<version>` (a point read on FerretDB, and a
 * second proposal of the same version collides on `_id` instead of both landing). The version in force is
 * also copied into the cabinet document's lanes (with their counts) and `planogramVersion`.
 */
export interface PlanogramDoc {
  _id: string;
  cabinetId: string;
  version: number;
  status: 'pending' | 'applied' | 'withdrawn';
  lanes: PlanogramLaneDoc[];
  createdBy: string;
  createdAt: Date;
  appliedAt?: Date;
  appliedVisitId?: string;
  note?: string;
}

const laneSchema = new Schema<PlanogramLaneDoc>({ laneId: { type: String, required: true }, sku: { type: String, required: true }, capacity: { type: Number, required: true }, par: Number }, { _id: false });

export const planogramSchema = new Schema<PlanogramDoc>(
  {
    _id: { type: String, required: true },
    cabinetId: { type: String, required: true },
    version: { type: Number, required: true },
    status: { type: String, enum: ['pending', 'applied', 'withdrawn'], required: true },
    lanes: { type: [laneSchema], default: [] },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    appliedAt: Date,
    appliedVisitId: String,
    note: String,
  },
  { collection: 'planograms' },
);
planogramSchema.index({ cabinetId: 1, version: 1 }, { unique: true });

export function planogramModels(conn: Connection) {
  return { Planogram: conn.model<PlanogramDoc>('Planogram', planogramSchema) };
}
