import { Schema, type Connection } from 'mongoose';

/** A lane of a restock task: what the list said when the task was made. */
export interface TaskLaneDoc {
  cabinetId: string;
  laneId: string;
  sku: string;
  /** The service's count when the task was made, and what the list said to bring. */
  listedCount: number;
  bring: number;
  capacity: number;
}

/** A lane as closed: the service's count then, what the restocker found, what the lane holds after. */
export interface TaskCountDoc {
  cabinetId: string;
  laneId: string;
  sku: string;
  expected: number;
  found: number;
  final: number;
  /** expected − found when positive: gone without a sale (shrinkage). */
  shrinkage: number;
}

export interface RestockTaskDoc {
  _id: string;
  taskId: string;
  siteId: string;
  assignee: string;
  createdBy: string;
  /** `closing`: the counts are recorded and the stock being set (shown as open); a retried close finishes it. */
  status: 'open' | 'closing' | 'closed';
  lanes: TaskLaneDoc[];
  counts: TaskCountDoc[];
  /** Task lanes the cabinet no longer had at the close (a planogram version changed them): not counted. */
  gone?: string[];
  closedAt?: Date;
  closedBy?: string;
  version: number;
}

const laneSchema = new Schema<TaskLaneDoc>({ cabinetId: String, laneId: String, sku: String, listedCount: Number, bring: Number, capacity: Number }, { _id: false });
const countSchema = new Schema<TaskCountDoc>({ cabinetId: String, laneId: String, sku: String, expected: Number, found: Number, final: Number, shrinkage: Number }, { _id: false });

export const restockTaskSchema = new Schema<RestockTaskDoc>(
  {
    _id: { type: String, required: true },
    taskId: { type: String, required: true },
    siteId: { type: String, required: true },
    assignee: { type: String, required: true },
    createdBy: { type: String, required: true },
    status: { type: String, enum: ['open', 'closing', 'closed'], required: true },
    lanes: { type: [laneSchema], default: [] },
    counts: { type: [countSchema], default: [] },
    gone: { type: [String], default: undefined },
    closedAt: Date,
    closedBy: String,
    version: { type: Number, default: 0 },
  },
  { collection: 'restock_tasks', timestamps: true },
);
restockTaskSchema.index({ siteId: 1, status: 1 });

export function restockModels(conn: Connection) {
  return { RestockTask: conn.model<RestockTaskDoc>('RestockTask', restockTaskSchema) };
}
