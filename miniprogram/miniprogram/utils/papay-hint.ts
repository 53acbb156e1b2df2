/** The papay signing mini-program's appId (WeChat's own). */
export const PAPAY_SIGNING_APPID = 'wxbd687630cd02ce1d';

/**
 * What the signing mini-program said when it handed the shopper back (App.onShow referrerInfo). It is only a
 * hint for the wording while the page asks the server, which alone decides whether the contract is active.
 */
let last: { returnCode?: string; at: number } | undefined;

export const papayHint = {
  record(referrer: { appId?: string; extraData?: Record<string, unknown> } | undefined, now: number): void {
    if (referrer?.appId !== PAPAY_SIGNING_APPID) return;
    const code = referrer.extraData?.['return_code'];
    last = typeof code === 'string' ? { returnCode: code, at: now } : { at: now };
  },
  take(): { returnCode?: string; at: number } | undefined {
    const h = last;
    last = undefined;
    return h;
  },
};
