import { papayHint } from './utils/papay-hint';

App<WechatMiniprogram.IAnyObject>({
  onShow(options) {
    // Coming back from the papay signing mini-program: keep its answer as a hint for the papay page.
    const referrer = (options as { referrerInfo?: { appId?: string; extraData?: Record<string, unknown> } }).referrerInfo;
    papayHint.record(referrer, Date.now());
  },
});
