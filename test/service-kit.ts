import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CabinetTimings } from '../actors/cabinet/cabinet.machine';
import type { SessionTimings } from '../actors/session/session.machine';
import { loadConfig } from '../app/config';
import { startService, type Service } from '../app/service';
import { silentLogger, type Logger } from '../common/log';
import type { Clock } from '../common/clock';

/** Starts the whole service in-process on the run's FerretDB, in a database and data directory of its own. */
export async function startTestService(opts: { timings?: Partial<CabinetTimings>; sessionTimings?: Partial<SessionTimings>; clock?: Clock; log?: Logger; env?: Record<string, string>; seed?: boolean } = {}): Promise<Service & { cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'cf-svc-'));
  const config = loadConfig({
    MONGODB_URI: process.env.TEST_MONGODB_URI,
    DB_NAME: `svc_${randomBytes(5).toString('hex')}`,
    DATA_DIR: dir,
    PORT: '0',
    SEED_DEMO: opts.seed === false ? 'false' : 'true',
    LOG_LEVEL: 'silent',
    RECOGNITION_WORKERS: '0',
    WECHAT_MODE: 'off',
    ...opts.env,
  });
  const service = await startService(config, { log: opts.log ?? silentLogger, clock: opts.clock, timings: opts.timings, ...(opts.sessionTimings ? { sessionTimings: opts.sessionTimings } : {}) });
  return Object.assign(service, {
    async cleanup() {
      await service.conn.dropDatabase().catch(() => undefined);
      await service.stop('test done');
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
