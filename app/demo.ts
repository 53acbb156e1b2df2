import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../common/log';
import { spawnTsChild } from './child';

export interface DemoSimulator {
  pid: number;
  stop(): Promise<void>;
}

/**
 * `npm start`'s demo: writes `DATA_DIR/demo.json` (service and WeChat emulator URLs, read by
 * `npm run shopper`) and runs the demo cabinets in the simulator as a child process with rendered shelf
 * frames; shoppers always show up and close the door. The child exits with this process (IPC disconnect).
 */
export function startDemoSimulator(o: { url: string; wechatUrl: string; dataDir: string; log: Logger }): DemoSimulator {
  writeFileSync(join(o.dataDir, 'demo.json'), JSON.stringify({ url: o.url, wechatUrl: o.wechatUrl }, null, 2) + '\n');
  const args = ['--url', o.url, '--demo', '--count', '0', '--data-dir', o.dataDir, '--frames', 'vision', '--no-show', '0', '--forget-close', '0', '--progress-every', '60s', '--events'];
  const { child, stop } = spawnTsChild('tools/simulator/simulator.cli.ts', args);
  const relay = (level: 'info' | 'warn') => (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) o.log[level]({ sim: line.trim() }, 'demo simulator');
  };
  child.stdout?.on('data', relay('info'));
  child.stderr?.on('data', relay('warn'));
  o.log.info({ pid: child.pid }, 'demo simulator started');
  return {
    pid: child.pid ?? -1,
    stop: () => stop(3000),
  };
}

export const DEMO_HELP = (url: string, dataDir: string) => `Demo: the demo cabinets run in the simulator; drive a shopper through each flow from another shell:

  npm run shopper -- open    # open shelf: cart → WeChat Pay (emulated) → paid, stock decremented
  npm run shopper -- semi    # semi-automatic: unlock → visit → cart → pay-and-sign → recognition checks the cart
  npm run shopper -- auto    # fully automatic: papay → unlock → take → door closes → recognised → charged
  npm run shopper -- debts   # see and clear debts (add --openid <id> to act as an earlier shopper)

Operator API: ${url}/admin/api/v1/reviews (Authorization: Bearer $(cat ${join(dataDir, 'admin.token')}))
Shopper API: ${url}/api/v1/openapi.json
`;
