import { createHash } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import { maskPhone } from '../../common/mask';

export interface ShopperDoc {
  /** The shopperId for shoppers keyed so; an ObjectId for older ones. */
  _id: unknown;
  shopperId: string;
  openid: string;
  unionid?: string;
  /** Full number, needed for operations; every serialisation masks it (toJSON/toObject). */
  phone?: string;
  createdVia: 'miniprogram' | 'seed';
  blocked: boolean;
}

const maskOnOutput = {
  transform: (_doc: unknown, ret: Record<string, unknown>) => {
    if (typeof ret.phone === 'string') ret.phone = maskPhone(ret.phone);
    return ret;
  },
};

/**
 * The shopper id a new shopper gets: derived from the openid, so signing in (which knows only the openid)
 * is a point read of `_id` (on FerretDB v1 a filter on `openid` reads the whole collection). Shoppers
 * created before, or seeded with ids of their own, are found by their fields.
 */
export const shopperIdFor = (openid: string): string => `S${createHash('sha256').update(openid).digest('hex').slice(0, 16)}`;

export const shopperSchema = new Schema<ShopperDoc>(
  {
    // String ids (the shopperId) since shoppers were keyed so; ObjectIds for older ones.
    _id: {
      type: Schema.Types.Mixed,
      default: function (this: { shopperId?: string }) {
        return this.shopperId;
      },
    },
    shopperId: { type: String, required: true },
    openid: { type: String, required: true },
    unionid: String,
    phone: String,
    createdVia: { type: String, enum: ['miniprogram', 'seed'], default: 'miniprogram' },
    blocked: { type: Boolean, default: false },
  },
  { collection: 'shoppers', timestamps: true, toJSON: maskOnOutput, toObject: maskOnOutput },
);
shopperSchema.index({ shopperId: 1 }, { unique: true });
shopperSchema.index({ openid: 1 }, { unique: true });

export function peopleModels(conn: Connection) {
  return { Shopper: conn.model<ShopperDoc>('Shopper', shopperSchema) };
}
