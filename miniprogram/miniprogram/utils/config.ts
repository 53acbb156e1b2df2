/**
 * Deployment settings. Nothing here is secret: the API host and subscribe template ids are public by nature,
 * and the mini-program never holds session_key or any merchant key.
 */
export interface MiniConfig {
  /** API origin; the /api/v1 prefix is added by the client. */
  apiBaseUrl: string;
  /** One-time subscribe templates from the mini-program console; an empty id is skipped. */
  templates: {
    /** 扣款结果: the automatic flow charges after the door closes. */
    charged: string;
    /** 欠款提醒: a failed deduction or a reviewed visit can leave debt. */
    debtReminder: string;
    /** 复核/申诉结果: held visits and appeals are decided by an operator later. */
    reviewResult: string;
  };
  /** Where visit progress and payment confirmation stop polling. */
  pollDelaysMs: readonly number[];
}

export const defaultConfig: MiniConfig = Object.freeze({
  apiBaseUrl: 'https://fleet.example.com',
  templates: Object.freeze({ charged: '', debtReminder: '', reviewResult: '' }),
  pollDelaysMs: Object.freeze([500, 1000, 1000, 2000, 2000, 3000, 5000]),
});
