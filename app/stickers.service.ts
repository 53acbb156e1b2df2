import { can, type Principal } from '../contracts/admin-api';
import { qrUrl } from '../contracts/cabinet-protocol';
import type { StickerEntry, StickerSheet } from '../contracts/console-wechat';
import type { Logger } from '../common/log';
import { AppError } from '../common/errors';
import { qrPng } from '../common/qrcode';
import type { MiniProgramClient } from '../payments/wechatpay/miniprogram.client';
import type { Models } from '../store/models';

/** The mini-program page that reads `query.scene` and routes to the cabinet's flow (miniprogram/utils/qr.ts). */
export const STICKER_PAGE = 'pages/index/index';
const FLOW_LETTER = { open: 'o', semi: 's', auto: 'a' } as const;
/** What a Host header may be for it to be printed (PUBLIC_HOST's rule, app/config.ts). */
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

/**
 * The scene of a cabinet's mini-program code: `<cabinetId>.<o|s|a>`, the format the mini-program parses
 * (miniprogram/utils/qr.ts parseScene), or undefined when it does not fit WeChat's 32 characters.
 */
export function stickerScene(cabinetId: string, kind: keyof typeof FLOW_LETTER): string | undefined {
  const s = `${cabinetId}.${FLOW_LETTER[kind]}`;
  return s.length <= 32 ? s : undefined;
}

/**
 * The console's per-site sticker sheet, two codes per cabinet: the mini-program code (wxa/getwxacodeunlimit)
 * whose scene opens the cabinet's flow, and beside it the link QR of the cabinet protocol
 * (`https://<host>/c/<cabinetId>?flow=`, opened in the mini-program by WeChat's "scan a link QR" rule, and
 * the one code a cabinet id too long for a scene still gets). The link QR is drawn here and needs no WeChat,
 * so the sheet prints with WeChat off too. Mini-program codes are kept in memory per scene: WeChat's codes
 * never expire and the API is rate-limited, so a reprint does not ask again.
 */
export class StickerService {
  private readonly cache = new Map<string, { image: Buffer; contentType: string }>();

  constructor(private readonly d: { models: Pick<Models, 'Cabinet'>; codes: Pick<MiniProgramClient, 'wxacodeUnlimit'> | undefined; publicHost?: string | undefined; log: Logger; now: () => number }) {}

  /** `requestHost`: the host the console was opened at, printed when PUBLIC_HOST is not set. */
  async sheet(p: Principal, siteId: string, requestHost = 'localhost'): Promise<StickerSheet> {
    if (!can(p, 'fleet.view', siteId)) throw new AppError('FORBIDDEN', `role ${p.role} may not print stickers at site ${siteId}`, { permission: 'fleet.view' });
    const cabinets = await this.d.models.Cabinet.find({ siteId }, { cabinetId: 1, name: 1, kind: 1 }).sort({ cabinetId: 1 }).lean();
    if (!cabinets.length) throw new AppError('NOT_FOUND', `no cabinets at site ${siteId}`);
    const host = this.d.publicHost ?? (HOST.test(requestHost) ? requestHost : 'localhost');
    const out: StickerEntry[] = [];
    for (const c of cabinets) {
      const kind = c.kind as keyof typeof FLOW_LETTER;
      const link = qrUrl(host, c.cabinetId, kind);
      const base = { cabinetId: c.cabinetId, name: c.name ?? c.cabinetId, kind, page: STICKER_PAGE, link, linkImage: `data:image/png;base64,${qrPng(link, { scale: 6 }).toString('base64')}` };
      out.push({ ...base, ...(await this.miniProgramCode(c.cabinetId, kind)) });
    }
    return { siteId, generatedAt: this.d.now(), linkHost: host, linkHostConfigured: this.d.publicHost !== undefined, cabinets: out };
  }

  private async miniProgramCode(cabinetId: string, kind: keyof typeof FLOW_LETTER): Promise<Pick<StickerEntry, 'scene' | 'image' | 'error'>> {
    const scene = stickerScene(cabinetId, kind);
    if (!scene) return { error: 'cabinet id too long for a mini-program code scene (32 characters): use the link QR' };
    const codes = this.d.codes;
    if (!codes) return { scene, error: 'WeChat is off (WECHAT_MODE=off): no mini-program code; use the link QR' };
    let code = this.cache.get(scene);
    if (!code) {
      const r = await codes.wxacodeUnlimit({ scene, page: STICKER_PAGE, width: 430 });
      if (!r.ok) {
        this.d.log.warn({ cabinetId, errcode: r.errcode }, 'mini-program code refused');
        return { scene, error: `WeChat ${r.errcode}: ${r.errmsg}` };
      }
      code = r.value;
      this.cache.set(scene, code);
    }
    return { scene, image: `data:${code.contentType};base64,${code.image.toString('base64')}` };
  }
}
