import { Schema, type Connection } from 'mongoose';
import { maskPhone } from '../../common/mask';

export interface ShopperDoc {
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

export const shopperSchema = new Schema<ShopperDoc>(
  {
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
