import type { SUBSCRIBE_TEMPLATES } from '../../../contracts/subscribe-templates';

/**
 * Deployment settings. Nothing here is secret: the API host and subscribe template ids are public by nature,
 * and the mini-program never holds session_key or any merchant key.
 */
export interface MiniConfig {
  /** API origin; the /api/v1 prefix is added by the client. */
  apiBaseUrl: string;
  /**
   * The subscribe templates the service sends (contracts/subscribe-templates.ts, mirrored here because the
   * package holds nothing outside miniprogramRoot; tsc requires the same ids): 欠款提醒 and 欠款结清.
   */
  templates: { readonly debtCreated: string; readonly debtCleared: string };
  /** Where visit progress and payment confirmation stop polling. */
  pollDelaysMs: readonly number[];
  /** Development only: play the shopper's WeChat client on the service's WeChat sandbox (utils/sandbox-platform.ts). */
  sandbox?: boolean;
}

export const defaultConfig: MiniConfig = Object.freeze({
  apiBaseUrl: 'https://fleet.example.com',
  templates: Object.freeze({ debtCreated: 'sandbox-debt-created', debtCleared: 'sandbox-debt-cleared' } as const satisfies typeof SUBSCRIBE_TEMPLATES),
  pollDelaysMs: Object.freeze([500, 1000, 1000, 2000, 2000, 3000, 5000]),
});

/**
 * The development configuration (WeChat DevTools, 开发版): the service `npm start` runs on this machine, with
 * WeChat played by its sandbox. DevTools must not check domains for it (project.private.config.json sets
 * urlCheck false). For a phone preview, put this machine's LAN address here and start the service with HOST=0.0.0.0.
 */
export const developmentConfig: MiniConfig = Object.freeze({ ...defaultConfig, apiBaseUrl: 'http://127.0.0.1:8080', sandbox: true });

/** 开发版 (`develop`) gets the development configuration; 体验版 and 正式版 the deployment one. */
export function configFor(envVersion: string | undefined): MiniConfig {
  return envVersion === 'develop' ? developmentConfig : defaultConfig;
}
