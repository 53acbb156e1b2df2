import { can, type Principal } from '../contracts/admin-api';
import type { StickerSheet } from '../contracts/console-wechat';
import type { Logger } from '../common/log';
import { AppError } from '../common/errors';
import type { MiniProgramClient } from '../payments/wechatpay/miniprogram.client';
import type { Models } from '../store/models';

/** The mini-program page that reads `query.scene` and routes to the cabinet's flow (miniprogram/utils/qr.ts). */
export const STICKER_PAGE = 'pages/index/index';
const FLOW_LETTER = { open: 'o', semi: 's', auto: 'a' } as const;

/**
 * The scene of a cabinet's mini-program code: `<cabinetId>.<o|s|a>`, the format the mini-program parses
 * (miniprogram/utils/qr.ts parseScene), or undefined when it does not fit WeChat's 32 characters.
 */
export function stickerScene(cabinetId: string, kind: keyof typeof FLOW_LETTER): string | undefined {
  const s = `${cabinetId}.${FLOW_LETTER[kind]}`;
  return s.length <= 32 ? s : undefined;
}

/**
 * The console's per-site sticker sheet: one mini-program code per cabinet (wxa/getwxacodeunlimit), whose
 * scene opens the cabinet's flow. Codes are kept in memory per scene: WeChat's codes never expire and
 * the API is rate-limited, so a reprint does not ask again.
 */
export class StickerService {
  private readonly cache = new Map<string, { image: Buffer; contentType: string }>();

  constructor(private readonly d: { models: Pick<Models, 'Cabinet'>; codes: Pick<MiniProgramClient, 'wxacodeUnlimit'> | undefined; log: Logger; now: () => number }) {}

  async sheet(p: Principal, siteId: string): Promise<StickerSheet> {
    if (!can(p, 'fleet.view', siteId)) throw new AppError('FORBIDDEN', `role ${p.role} may not print stickers at site ${siteId}`, { permission: 'fleet.view' });
    const codes = this.d.codes;
    if (!codes) throw new AppError('UNAVAILABLE', 'WeChat is off (WECHAT_MODE=off): no mini-program codes');
    const cabinets = await this.d.models.Cabinet.find({ siteId }, { cabinetId: 1, name: 1, kind: 1 }).sort({ cabinetId: 1 }).lean();
    if (!cabinets.length) throw new AppError('NOT_FOUND', `no cabinets at site ${siteId}`);
    const out: StickerSheet['cabinets'] = [];
    for (const c of cabinets) {
      const kind = c.kind as keyof typeof FLOW_LETTER;
      const scene = stickerScene(c.cabinetId, kind);
      const base = { cabinetId: c.cabinetId, name: c.name ?? c.cabinetId, kind, page: STICKER_PAGE };
      if (!scene) {
        out.push({ ...base, error: 'cabinet id too long for a mini-program code scene (32 characters): use the link QR' });
        continue;
      }
      let code = this.cache.get(scene);
      if (!code) {
        const r = await codes.wxacodeUnlimit({ scene, page: STICKER_PAGE, width: 430 });
        if (!r.ok) {
          this.d.log.warn({ cabinetId: c.cabinetId, errcode: r.errcode }, 'mini-program code refused');
          out.push({ ...base, scene, error: `WeChat ${r.errcode}: ${r.errmsg}` });
          continue;
        }
        code = r.value;
        this.cache.set(scene, code);
      }
      out.push({ ...base, scene, image: `data:${code.contentType};base64,${code.image.toString('base64')}` });
    }
    return { siteId, generatedAt: this.d.now(), cabinets: out };
  }
}
