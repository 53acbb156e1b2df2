import { Schema, type Connection } from 'mongoose';

/** How a site's webhook message is shaped: WeCom and DingTalk group robots, or the plain JSON event. */
export type WebhookFormat = 'wecom' | 'dingtalk' | 'json';

/** A site as a record: where its cabinets are, its local time, and who is told about its alarms. */
export interface SiteDoc {
  /** The site id as natural key (point reads on FerretDB). */
  _id: string;
  siteId: string;
  name: string;
  address?: string;
  /** IANA time zone, e.g. Asia/Shanghai. */
  timeZone: string;
  /** The robot's URL carries its key: a secret, never logged, shown masked. */
  webhook?: { url: string; format: WebhookFormat; remindEveryMin: number; mention?: string[] };
  updatedBy?: string;
}

export const siteSchema = new Schema<SiteDoc>(
  {
    _id: { type: String, required: true },
    siteId: { type: String, required: true },
    name: { type: String, required: true },
    address: String,
    timeZone: { type: String, required: true, default: 'Asia/Shanghai' },
    webhook: { type: new Schema({ url: String, format: { type: String, enum: ['wecom', 'dingtalk', 'json'] }, remindEveryMin: Number, mention: { type: [String], default: undefined } }, { _id: false }), default: undefined },
    updatedBy: String,
  },
  { collection: 'sites', timestamps: true },
);

export function siteModels(conn: Connection) {
  return { Site: conn.model<SiteDoc>('Site', siteSchema) };
}
