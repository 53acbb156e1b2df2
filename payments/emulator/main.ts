import { parseArgs } from 'node:util';
import { startEmulator } from './server';
import type { PlatformMode } from './emulator';

/**
 * `npx tsx payments/emulator/main.ts --port 8090 --data-dir ./data/wechat-sandbox --time-scale 60`
 * Starts the WeChat emulator as its own process; prints one JSON line with its base URL and data dir.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8090' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string', default: './data/wechat-sandbox' },
    'time-scale': { type: 'string', default: '1' },
    'platform-mode': { type: 'string', default: 'public_key' },
  },
});

const mode = values['platform-mode'] as PlatformMode;
if (!['public_key', 'certificate', 'switching'].includes(mode)) throw new Error(`--platform-mode must be public_key, certificate or switching (got ${mode})`);
const timeScale = Number(values['time-scale']);
if (!(timeScale > 0)) throw new Error('--time-scale must be a positive number');

void (async () => {
  const emu = await startEmulator({ port: Number(values.port), host: values.host, dataDir: values['data-dir']!, timeScale, platformMode: mode });
  process.stdout.write(`${JSON.stringify({ emulator: 'wechat', baseUrl: emu.baseUrl, dataDir: emu.dataDir, mchid: emu.merchant.mchid, appid: emu.merchant.appid })}\n`);
  const stop = (): void => void emu.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Exit with the parent (npm start) so no emulator outlives the service.
  process.on('disconnect', stop);
})();
