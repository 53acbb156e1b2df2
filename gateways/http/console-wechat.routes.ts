import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AbnormalRefundService } from '../../app/abnormal-refund.service';
import type { StickerService } from '../../app/stickers.service';
import type { Clock } from '../../common/clock';
import { ADMIN_PREFIX } from '../../contracts/console-api';
import { SiteId } from '../../contracts/domain';
import { ABNORMAL_REFUND_PATH, STICKERS_PATH } from '../../contracts/console-wechat';
import { authenticateOperators, principalOf, type OperatorAuthenticator } from './operator-auth';

/** The console's WeChat-backed actions (contracts/console-wechat.ts): sticker sheet, abnormal refund. */
export function registerConsoleWechatRoutes(app: FastifyInstance, deps: { auth: OperatorAuthenticator; stickers: StickerService; abnormalRefunds: AbnormalRefundService; clock: Clock }): void {
  app.register(
    async (api) => {
      authenticateOperators(api, deps.auth, () => deps.clock.now());
      api.get(STICKERS_PATH, async (req) => deps.stickers.sheet(principalOf(req), z.object({ siteId: SiteId }).parse(req.params).siteId, req.headers.host));
      api.post(ABNORMAL_REFUND_PATH, async (req) => deps.abnormalRefunds.apply(principalOf(req), z.object({ outRefundNo: z.string().min(1).max(64) }).parse(req.params).outRefundNo));
    },
    { prefix: ADMIN_PREFIX },
  );
}
