/**
 * The subscribe-message templates the service sends, defined once. The service's sender reads the ids from
 * here (payments/wechatpay/wechat.config.ts), and the mini-program asks the shopper's consent for exactly these
 * (miniprogram/miniprogram/utils/config.ts mirrors them: files outside miniprogramRoot are not in its package, so
 * it holds a copy that tsc requires to equal this one, and utils/units.test.ts checks at run time too).
 *
 * Template ids are public (the mini-program hands them to `wx.requestSubscribeMessage`). These are the WeChat
 * sandbox's; before a live release put the ids of the account's own templates (mp.weixin.qq.com → 订阅消息) here.
 */
export const SUBSCRIBE_TEMPLATES = {
  /** 欠款提醒: an order became debt (a refused deduction, or an operator's decision after review). */
  debtCreated: 'sandbox-debt-created',
  /** 欠款结清: the debt was paid or waived. */
  debtCleared: 'sandbox-debt-cleared',
} as const;
export type SubscribeTemplate = keyof typeof SUBSCRIBE_TEMPLATES;
