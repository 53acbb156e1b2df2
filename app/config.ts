import { z } from 'zod';
import { AppError } from '../common/errors';
import { DEFAULT_GC_TUNING, type GcTuning } from './gc';
import { parseWechatConfig, wechatConfigFromEnv } from '../payments/wechatpay/wechat.config';

/**
 * The one configuration schema. Only this module reads the environment; the result is validated at boot,
 * deep-frozen and passed down. A bad configuration stops the start and lists every problem, each naming
 * its environment variable.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(8080),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** auto: readable lines on a terminal, JSON lines otherwise; json or pretty force one. */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  /**
   * A cluster of service nodes (issue N): the Redis they share (socket.io's Redis Streams adapter, node
   * heartbeats). Unset: this process is the whole service.
   */
  REDIS_URL: z.string().regex(/^rediss?:\/\/[^?#]+$/, 'must be a redis:// or rediss:// URL').optional(),
  /** This node's name in the cluster (the fleet view and logs show it); host name and pid when unset. */
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'letters, digits, _ . and - only').optional(),
  /** When set, the service uses this server and never starts FerretDB. */
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .optional(),
  DB_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,48}$/, 'letters, digits, _ and - only').default('cabinet_fleet'),
  /** Where the embedded database and generated local keys live; kept across restarts. */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Path of a prebuilt FerretDB binary; by default the one tools/setup built into the cache. */
  FERRETDB_BIN: z.string().min(1).optional(),
  FERRETDB_PORT: int(0, 65535).default(0),
  /** 32-byte key (64 hex chars) that encrypts device secrets at rest; generated into DATA_DIR when unset. */
  SECRETS_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)').optional(),
  SEED_DEMO: bool.default(true),
  /**
   * With the demo data and the WeChat sandbox, `npm start` also runs the demo cabinets in the simulator
   * (rendered shelf frames) so every flow can be driven from the command line (`npm run shopper`).
   */
  DEMO_SIMULATOR: bool.default(true),
  /** Bearer token for the admin API (provisioning, fleet); generated into DATA_DIR/admin.token when unset. */
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** Recognition workers (one onnxruntime session each); 0 disables recognition. Default: one per core. */
  RECOGNITION_WORKERS: int(0, 64).optional(),
  /**
   * sandbox: start the local WeChat emulator beside the service and use its generated merchant;
   * live: real WeChat Pay and mini-program APIs from the WECHAT_* variables; off: no WeChat (shopper sign-in
   * and payments unavailable).
   */
  WECHAT_MODE: z.enum(['sandbox', 'live', 'off']).default('sandbox'),
  /** Time-scale of the emulator's notification retry schedule in sandbox mode. */
  WECHAT_EMULATOR_TIME_SCALE: z.coerce.number().positive().max(10_000).default(1),
  /**
   * Sandbox mode against an emulator already running (payments/emulator/main.ts) instead of starting one:
   * its merchant files are read from WECHAT_SANDBOX_DIR (default DATA_DIR/wechat-sandbox). Several service
   * processes can share it, and it outlives a restart of the service, as WeChat does.
   */
  WECHAT_EMULATOR_URL: z.string().regex(/^https?:\/\/[^?#]+$/, 'must be an http(s) URL without query').optional(),
  /**
   * The host cabinets' link QR codes carry (`https://<PUBLIC_HOST>/c/<cabinetId>?flow=…`, the cabinet
   * protocol's QR), registered for the mini-program on the WeChat platform. Unset: the host the console
   * was opened at, which suits a demo and nothing printed for real.
   */
  PUBLIC_HOST: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'a host name, optionally with :port')
    .optional(),
  /** Frames above this size get TOO_LARGE from the device gateway. */
  MAX_FRAME_BYTES: int(1024, 8 << 20).default(512 * 1024),
  SHUTDOWN_GRACE_MS: int(0, 120_000).default(10_000),
  /** Alarm and offline notices of one site within this window go out as one webhook message. */
  NOTIFY_GROUP_MS: int(0, 600_000).default(10_000),
  /** How far V8's old generation may grow past its live size before a full collection (app/gc.ts); 0 = V8's default. */
  GC_HEAP_GROWING_PERCENT: int(0, 400).default(DEFAULT_GC_TUNING.heapGrowingPercent),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly http: { readonly host: string; readonly port: number };
  /** The host printed in cabinets' link QR codes (PUBLIC_HOST); undefined: the console's own host. */
  readonly publicHost: string | undefined;
  readonly log: { readonly level: z.infer<typeof envSchema>['LOG_LEVEL']; readonly format: z.infer<typeof envSchema>['LOG_FORMAT'] };
  /** Run the demo cabinets in the simulator beside the service (npm start's demo). */
  readonly demoSimulator: boolean;
  readonly db: {
    readonly uri: string | undefined;
    readonly name: string;
    readonly ferretdbBin: string | undefined;
    readonly ferretdbPort: number;
  };
  /** Issue N: the shared Redis of a cluster of nodes (unset: one process) and this node's name. */
  readonly cluster: { readonly redisUrl: string | undefined; readonly nodeId: string | undefined };
  readonly dataDir: string;
  readonly secretsKey: string | undefined;
  readonly seedDemo: boolean;
  readonly shutdownGraceMs: number;
  readonly notifyGroupMs: number;
  readonly gc: GcTuning;
  readonly adminToken: string | undefined;
  readonly devices: { readonly maxFrameBytes: number };
  readonly recognition: { readonly workers: number | undefined };
  /** WECHAT_* variables as given; payments/wechatpay/wechat.config.ts turns them into its config. */
  readonly wechat: { readonly mode: 'sandbox' | 'live' | 'off'; readonly emulatorTimeScale: number; readonly emulatorUrl?: string; readonly env: Readonly<Record<string, string>> };
}

/** Thrown when the environment does not validate; `problems` lists every field at fault. */
export class ConfigError extends AppError {
  constructor(readonly problems: string[]) {
    super('CONFIG_INVALID', `Invalid configuration:\n  - ${problems.join('\n  - ')}`, { problems });
  }
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = source[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = envSchema.safeParse(picked);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => {
        const field = i.path.join('.') || '(root)';
        const got = typeof i.path[0] === 'string' ? picked[i.path[0]] : undefined;
        return `${field}: ${i.message}${got !== undefined && !/KEY|SECRET|URI|TOKEN/.test(field) ? ` (got "${got}")` : ''}`;
      });
  // Live WeChat credentials are checked at boot too; sandbox ones come from the emulator at start-up.
  if (source.WECHAT_MODE === 'live') {
    try {
      parseWechatConfig(wechatConfigFromEnv(source));
    } catch (err) {
      const issues = (err as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues;
      if (issues) problems.push(...issues.map((i) => `WECHAT ${i.path.join('.')}: ${i.message}`));
      else problems.push(`WECHAT: ${(err as Error).message}`);
    }
  }
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const e = parsed.data;
  return deepFreeze({
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT },
    publicHost: e.PUBLIC_HOST,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    db: { uri: e.MONGODB_URI, name: e.DB_NAME, ferretdbBin: e.FERRETDB_BIN, ferretdbPort: e.FERRETDB_PORT },
    cluster: { redisUrl: e.REDIS_URL, nodeId: e.NODE_ID },
    dataDir: e.DATA_DIR,
    secretsKey: e.SECRETS_KEY,
    seedDemo: e.SEED_DEMO,
    demoSimulator: e.SEED_DEMO && e.DEMO_SIMULATOR && e.WECHAT_MODE === 'sandbox',
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    notifyGroupMs: e.NOTIFY_GROUP_MS,
    gc: { heapGrowingPercent: e.GC_HEAP_GROWING_PERCENT },
    adminToken: e.ADMIN_TOKEN,
    devices: { maxFrameBytes: e.MAX_FRAME_BYTES },
    recognition: { workers: e.RECOGNITION_WORKERS },
    wechat: {
      mode: e.WECHAT_MODE,
      emulatorTimeScale: e.WECHAT_EMULATOR_TIME_SCALE,
      emulatorUrl: e.WECHAT_EMULATOR_URL,
      env: Object.fromEntries(Object.entries(source).filter((kv): kv is [string, string] => kv[0].startsWith('WECHAT_') && typeof kv[1] === 'string')),
    },
  });
}

/** The variables the schema reads, each with its default: `npm start -- --help` (in step by construction). */
export function configVariables(): Array<{ name: string; default: string }> {
  return Object.entries(envSchema.shape).map(([name, schema]) => {
    const def = (schema as unknown as { def: { type: string; defaultValue?: unknown } }).def;
    return { name, default: def.type === 'default' ? String(def.defaultValue) : '(unset)' };
  });
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
