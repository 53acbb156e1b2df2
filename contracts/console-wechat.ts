/** The console's WeChat-backed actions, under ADMIN_PREFIX (gateways/http/console-wechat.routes.ts). */

/** GET: the printable sheet of the site's cabinet codes (fleet.view at that site). */
export const STICKERS_PATH = '/sites/:siteId/stickers';

export interface StickerEntry {
  cabinetId: string;
  name: string;
  kind: 'open' | 'semi' | 'auto';
  /** `<cabinetId>.<o|s|a>`: what the mini-program receives as `query.scene`. */
  scene?: string;
  page: string;
  /** The mini-program code as a data URL (PNG from the emulator; what WeChat sends in live mode). */
  image?: string;
  /** Why this cabinet has no mini-program code (WeChat is off, its id does not fit a scene, or WeChat refused). */
  error?: string;
  /** The link QR's content, the cabinet protocol's `https://<host>/c/<cabinetId>?flow=<kind>`. */
  link: string;
  /** The link QR as a PNG data URL (made by the service: common/qrcode.ts). */
  linkImage: string;
}

export interface StickerSheet {
  siteId: string;
  generatedAt: number;
  /** The host the link QRs carry; `linkHostConfigured` false: the console's own host (PUBLIC_HOST unset). */
  linkHost: string;
  linkHostConfigured: boolean;
  cabinets: StickerEntry[];
}

/** POST, no body: refund an ABNORMAL refund again, to the merchant's bank account (orders.refund). */
export const ABNORMAL_REFUND_PATH = '/refunds/:outRefundNo/apply-abnormal-refund';

export interface AbnormalRefundResponse {
  outRefundNo: string;
  status: 'pending';
  wechatStatus: string;
}
