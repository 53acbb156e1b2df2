import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { connectDevice } from '../../test/device-client';
import { startTestService } from '../../test/service-kit';

const run = promisify(execFile);
const TSX = resolve(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

jest.setTimeout(60_000);

describe('npm run provision', () => {
  it('registers a cabinet and prints a secret the cabinet can connect with; refuses a duplicate', async () => {
    const svc = await startTestService({ seed: false });
    try {
      const env = { ...process.env, ADMIN_TOKEN: svc.adminToken };
      const args = [resolve(__dirname, 'provision.cli.ts'), '--url', svc.url, '--id', 'PROV-01', '--kind', 'semi', '--site', 'lab-site', '--cameras', 'top,side'];
      const { stdout } = await run(TSX, args, { env });
      const secret = /device secret \(shown once; store it on the cabinet\): ([0-9a-f]{64})/.exec(stdout)?.[1];
      expect(secret).toBeDefined();
      const dev = await connectDevice({ url: svc.url, cabinetId: 'PROV-01', secret: secret! });
      dev.close();
      const stored = await svc.models.Cabinet.findOne({ cabinetId: 'PROV-01' }).lean();
      expect(stored).toMatchObject({ kind: 'semi', siteId: 'lab-site', cameras: ['top', 'side'] });
      expect(JSON.stringify(stored)).not.toContain(secret);
      expect(await svc.models.Audit.countDocuments({ action: 'cabinet.provision', objectId: 'PROV-01' })).toBe(1);
      const dup = await run(TSX, args, { env }).catch((e: { code: number; stderr: string }) => e);
      expect(dup).toMatchObject({ code: 1, stderr: expect.stringContaining('DUPLICATE') });
      const bad = await run(TSX, [resolve(__dirname, 'provision.cli.ts'), '--url', svc.url, '--id', 'x', '--kind', 'fridge'], { env }).catch((e: { code: number; stderr: string }) => e);
      expect(bad).toMatchObject({ code: 2, stderr: expect.stringMatching(/--kind/) });
    } finally {
      await svc.cleanup();
    }
  });
});
