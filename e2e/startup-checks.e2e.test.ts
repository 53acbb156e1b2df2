import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FD_HEADROOM } from '../app/limits';
import { runService } from './harness';

jest.setTimeout(60_000);

describe('start-up checks of the real service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-startup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('warns with the numbers when the open-file limit is below what the registered fleet needs', async () => {
    const env = { DATA_DIR: dir, PORT: '0', MONGODB_URI: process.env.TEST_MONGODB_URI as string, DB_NAME: `startup_${randomBytes(4).toString('hex')}`, SEED_DEMO: 'true', DEMO_SIMULATOR: 'false', WECHAT_MODE: 'off', RECOGNITION_WORKERS: '0', LOG_LEVEL: 'info' };
    const svc = runService(env, { openFiles: 300 });
    await svc.url;
    const warning = svc.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('open-file limit'));
    // The demo fleet: 7 cabinets.
    expect(warning).toMatchObject({ level: 40, softLimit: 300, cabinets: 7, needed: 7 + FD_HEADROOM, hardLimit: 300, fix: expect.stringMatching(/^raise the hard limit to at least 519/) });
    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);

    const roomy = runService(env, { openFiles: 4096 });
    await roomy.url;
    expect(roomy.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('open-file limit'))).toBeUndefined();
    roomy.child.kill('SIGTERM');
    expect(await roomy.exited).toBe(0);
  });
});
