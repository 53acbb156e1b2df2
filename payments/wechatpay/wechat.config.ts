import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SUBSCRIBE_TEMPLATES } from '../../contracts/subscribe-templates';

/**
 * Payments configuration. app/config.ts owns the environment; it hands this schema a plain object (see
 * `wechatConfigFromEnv` for the variable names) and passes the parsed, frozen result down. Secrets are PEM
 * strings or keys in memory only; nothing here is ever logged (common/log.ts redacts the key names).
 */
const pem = (label: string) => z.string().refine((s) => s.includes(`-----BEGIN ${label}`), `must be a PEM ${label.toLowerCase()}`);
const httpUrl = z.string().regex(/^https?:\/\/[^?#]+$/, 'must be an http(s) URL without query').transform((s) => s.replace(/\/+$/, ''));

export const wechatConfigSchema = z
  .object({
    /** sandbox: the local emulator; live: WeChat. Only changes defaults and safety checks, never code paths. */
    mode: z.enum(['sandbox', 'live']),
    /** api.mch.weixin.qq.com (v3 JSON and v2 XML). */
    payBaseUrl: httpUrl.default('https://api.mch.weixin.qq.com'),
    /** api.weixin.qq.com (mini-program server APIs). */
    apiBaseUrl: httpUrl.default('https://api.weixin.qq.com'),
    mchid: z.string().regex(/^\d{8,12}$/, 'mchid: 8–12 digits'),
    appid: z.string().regex(/^wx[0-9a-f]{16}$/, 'appid: wx + 16 hex'),
    appSecret: z.string().min(16),
    merchantSerial: z.string().regex(/^[0-9A-Fa-f]{8,40}$/, 'merchant certificate serial: hex'),
    merchantPrivateKey: pem('PRIVATE KEY'),
    /** apiclient_cert.pem; optional (the serial is what is sent). */
    merchantCert: pem('CERTIFICATE').optional(),
    apiV3Key: z.string().refine((s) => Buffer.byteLength(s, 'utf8') === 32, 'APIv3 key must be 32 bytes'),
    apiV2Key: z.string().refine((s) => Buffer.byteLength(s, 'utf8') === 32, 'APIv2 key must be 32 bytes'),
    /** WeChat Pay public-key mode (every merchant since late 2024). */
    platformPublicKeyId: z.string().regex(/^PUB_KEY_ID_\w+$/).optional(),
    platformPublicKey: pem('PUBLIC KEY').optional(),
    /** Platform-certificate mode: downloaded from /v3/certificates at start; both may be on during the switch. */
    platformCertificates: z.boolean().default(false),
    /** papay template id. */
    planId: z.string().regex(/^\d{1,12}$/),
    /** Public https base where WeChat reaches the notification endpoints (registerPaymentNotifications). */
    notifyBaseUrl: httpUrl,
    requestTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    /** Subscribe-message templates for debt created / cleared; unset = no message. */
    debtCreatedTemplateId: z.string().min(1).optional(),
    debtClearedTemplateId: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (!!c.platformPublicKeyId !== !!c.platformPublicKey) ctx.addIssue({ code: 'custom', path: ['platformPublicKeyId'], message: 'public-key mode needs both the PUB_KEY_ID and the public key' });
    if (!c.platformPublicKeyId && !c.platformCertificates) ctx.addIssue({ code: 'custom', path: ['platformPublicKeyId'], message: 'choose public-key mode, platform certificates, or both' });
    if (c.mode === 'live') {
      if (!c.payBaseUrl.startsWith('https://')) ctx.addIssue({ code: 'custom', path: ['payBaseUrl'], message: 'live mode needs https' });
      if (!c.notifyBaseUrl.startsWith('https://')) ctx.addIssue({ code: 'custom', path: ['notifyBaseUrl'], message: 'WeChat only calls https notify URLs' });
    }
  });

export type WechatConfig = z.infer<typeof wechatConfigSchema>;
export type WechatConfigInput = z.input<typeof wechatConfigSchema>;

/** Paths the notification plugin serves; notify URLs are notifyBaseUrl + these. */
export const NOTIFY_PATHS = {
  v3: '/payments/wechat/notify/v3',
  papay: '/payments/wechat/notify/papay',
  contract: '/payments/wechat/notify/contract',
} as const;

export const notifyUrl = (c: Pick<WechatConfig, 'notifyBaseUrl'>, kind: keyof typeof NOTIFY_PATHS): string => `${c.notifyBaseUrl}${NOTIFY_PATHS[kind]}`;

/**
 * The environment variables, for app/config.ts. Key material comes either inline or from a file (`*_PATH`);
 * in sandbox mode everything not given is read from the emulator's data directory (WECHAT_SANDBOX_DIR).
 */
export function wechatConfigFromEnv(env: Record<string, string | undefined>): WechatConfigInput {
  const mode = env.WECHAT_MODE === 'live' ? 'live' : 'sandbox';
  const file = (inline: string | undefined, path: string | undefined): string | undefined => inline ?? (path ? readFileSync(path, 'utf8') : undefined);
  const sandbox = mode === 'sandbox' && env.WECHAT_SANDBOX_DIR ? sandboxFiles(env.WECHAT_SANDBOX_DIR) : undefined;
  const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
  return {
    mode,
    payBaseUrl: env.WECHAT_PAY_BASE_URL ?? undefined,
    apiBaseUrl: env.WECHAT_API_BASE_URL ?? undefined,
    mchid: env.WECHAT_MCHID ?? sandbox?.mchid ?? '',
    appid: env.WECHAT_APPID ?? sandbox?.appid ?? '',
    appSecret: env.WECHAT_APP_SECRET ?? sandbox?.appSecret ?? '',
    merchantSerial: env.WECHAT_MERCHANT_SERIAL ?? sandbox?.merchantSerial ?? '',
    merchantPrivateKey: file(env.WECHAT_MERCHANT_PRIVATE_KEY, env.WECHAT_MERCHANT_PRIVATE_KEY_PATH) ?? sandbox?.merchantPrivateKey ?? '',
    merchantCert: file(undefined, env.WECHAT_MERCHANT_CERT_PATH) ?? sandbox?.merchantCert,
    apiV3Key: env.WECHAT_API_V3_KEY ?? sandbox?.apiV3Key ?? '',
    apiV2Key: env.WECHAT_API_V2_KEY ?? sandbox?.apiV2Key ?? '',
    platformPublicKeyId: env.WECHAT_PUBLIC_KEY_ID ?? sandbox?.platformPublicKeyId,
    platformPublicKey: file(undefined, env.WECHAT_PUBLIC_KEY_PATH) ?? sandbox?.platformPublicKey,
    platformCertificates: env.WECHAT_PLATFORM_CERTIFICATES === 'true',
    planId: env.WECHAT_PAPAY_PLAN_ID ?? sandbox?.planId ?? '',
    notifyBaseUrl: env.WECHAT_NOTIFY_BASE_URL ?? '',
    requestTimeoutMs: num(env.WECHAT_REQUEST_TIMEOUT_MS),
    // The ids the mini-program asks consent for: one definition (contracts/subscribe-templates.ts), no override.
    debtCreatedTemplateId: SUBSCRIBE_TEMPLATES.debtCreated,
    debtClearedTemplateId: SUBSCRIBE_TEMPLATES.debtCleared,
  };
}

/** Reads the files the emulator writes (payments/emulator/README.md) into config fields. */
export function sandboxFiles(dir: string): Partial<WechatConfigInput> & Record<string, string> {
  const ids = JSON.parse(readFileSync(join(dir, 'merchant.json'), 'utf8')) as Record<string, string>;
  return {
    mchid: ids.mchid!,
    appid: ids.appid!,
    appSecret: ids.appSecret!,
    merchantSerial: ids.merchantSerial!,
    apiV3Key: ids.apiV3Key!,
    apiV2Key: ids.apiV2Key!,
    planId: ids.planId!,
    platformPublicKeyId: ids.platformPublicKeyId!,
    merchantPrivateKey: readFileSync(join(dir, 'apiclient_key.pem'), 'utf8'),
    merchantCert: readFileSync(join(dir, 'apiclient_cert.pem'), 'utf8'),
    platformPublicKey: readFileSync(join(dir, 'pub_key.pem'), 'utf8'),
  };
}

export function parseWechatConfig(input: WechatConfigInput): WechatConfig {
  return Object.freeze(wechatConfigSchema.parse(input));
}
