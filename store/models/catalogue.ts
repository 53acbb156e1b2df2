import { Schema, type Connection } from 'mongoose';
import type { FlowKind, Packaging } from '../../contracts/domain';
import type { PriceChange } from '../../contracts/pricing';

export interface ProductDoc {
  _id?: unknown;
  sku: string;
  name: string;
  nameEn: string;
  brand: string;
  flavour: string;
  packaging: Packaging;
  /** The list price, integer fen; scheduled changes and site overrides are in `prices` (contracts/pricing.ts). */
  priceFen: number;
  prices?: PriceChange[];
  barcode?: string;
  colour: string;
  accent: string;
  /** false: delisted (kept for the orders and receipts that name it; not sold, not placed). */
  active: boolean;
  /** Bumped by every change through the catalogue service (compare-and-set). */
  version?: number;
}

const priceChangeSchema = new Schema<PriceChange>({ priceFen: { type: Number, default: null }, from: { type: Number, required: true }, siteId: String, setBy: { type: String, required: true }, setAt: { type: Number, required: true } }, { _id: false });

const int = { type: Number, required: true, validate: { validator: Number.isInteger, message: '{PATH} must be an integer' } };

export const productSchema = new Schema<ProductDoc>(
  {
    sku: { type: String, required: true },
    name: { type: String, required: true },
    nameEn: { type: String, required: true },
    brand: { type: String, required: true },
    flavour: { type: String, required: true },
    packaging: { type: String, enum: ['can', 'bottle', 'bag', 'box'], required: true },
    priceFen: { ...int, min: 0 },
    prices: { type: [priceChangeSchema], default: undefined },
    barcode: String,
    colour: String,
    accent: String,
    active: { type: Boolean, default: true },
    version: { type: Number, default: 0 },
  },
  { collection: 'products', timestamps: true },
);
productSchema.index({ sku: 1 }, { unique: true });

export interface LaneDoc {
  laneId: string;
  sku: string;
  capacity: number;
  count: number;
  /** Restock at or below this count; 30 % of capacity when unset (contracts/restock.ts). */
  par?: number;
}

/** Device secrets are encrypted at rest (AES-256-GCM): HMAC verification needs the secret itself, so a hash would not do. */
export interface SealedSecret {
  iv: string;
  tag: string;
  data: string;
}

export interface CabinetDoc {
  /**
   * The cabinet id itself (FerretDB v1 pushes down only `_id` filters, so every keyed read and write of a
   * cabinet goes by `_id`). Cabinets registered before this keying keep their ObjectId: the path is Mixed so
   * neither kind is cast into the other, and the fleet store remembers those ids when it loads the directory.
   */
  _id?: string;
  cabinetId: string;
  name: string;
  kind: FlowKind;
  siteId: string;
  cameras: string[];
  lanes: LaneDoc[];
  secret: SealedSecret;
  disabled: boolean;
  firmware?: string;
  lastSeenAt?: Date;
  /** Keys of the latest stock movements applied (sale, restock), so a retried movement is applied once. */
  stockMoves: string[];
  /** The planogram version in force (store/models/planogram.ts); 1 for the lanes a cabinet was provisioned with. */
  planogramVersion?: number;
  /** A proposed version waiting for the next restock unlock. */
  pendingPlanogram?: number;
  /** Bumped on every stock or planogram change; guards compare-and-set writes. */
  version: number;
}

const laneSchema = new Schema<LaneDoc>(
  { laneId: { type: String, required: true }, sku: { type: String, required: true }, capacity: { ...int, min: 1 }, count: { ...int, min: 0 }, par: { type: Number, min: 0 } },
  { _id: false },
);

export const cabinetSchema = new Schema<CabinetDoc>(
  {
    _id: {
      type: Schema.Types.Mixed,
      default: function (this: { cabinetId?: string }) {
        return this.cabinetId;
      },
    },
    cabinetId: { type: String, required: true },
    name: { type: String, required: true },
    kind: { type: String, enum: ['open', 'semi', 'auto'], required: true },
    siteId: { type: String, required: true },
    cameras: { type: [String], default: [] },
    lanes: { type: [laneSchema], default: [] },
    secret: { type: new Schema<SealedSecret>({ iv: String, tag: String, data: String }, { _id: false }), required: true },
    disabled: { type: Boolean, default: false },
    firmware: String,
    lastSeenAt: Date,
    stockMoves: { type: [String], default: [] },
    planogramVersion: Number,
    pendingPlanogram: Number,
    version: { type: Number, default: 0 },
  },
  {
    collection: 'cabinets',
    timestamps: true,
    toJSON: {
      transform: (_doc, ret: Record<string, unknown>) => {
        delete ret.secret;
        return ret;
      },
    },
  },
);
cabinetSchema.index({ cabinetId: 1 }, { unique: true });
cabinetSchema.index({ siteId: 1, kind: 1 });

export function catalogueModels(conn: Connection) {
  return {
    Product: conn.model<ProductDoc>('Product', productSchema),
    Cabinet: conn.model<CabinetDoc>('Cabinet', cabinetSchema),
  };
}
