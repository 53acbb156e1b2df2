import { resolve } from 'node:path';
import type { ActorSystem } from '../actors/runtime';
import type { Clock } from '../common/clock';
import type { Logger } from '../common/log';
import { createPayments, type Payments } from '../payments/payment/payments.wiring';
import { notifyUrl, parseWechatConfig, wechatConfigFromEnv, type WechatConfig } from '../payments/wechatpay/wechat.config';
import type { Models } from '../store/models';
import { runReconciliation } from '../payments/reconciliation/reconciliation.job';
import type { JobLeases } from '../common/shared-state';
import { scheduleReconciliation } from '../payments/reconciliation/reconciliation.scheduler';
import { spawnTsChild } from './child';
import type { Config } from './config';

export interface EmulatorProcess {
  baseUrl: string;
  dataDir: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the WeChat emulator as its own process (sandbox mode). On first start it generates the sandbox
 * merchant into `dataDir` (kept across restarts); it exits with the service (IPC disconnect).
 */
export function startEmulatorProcess(dataDir: string, timeScale: number, log: Logger): Promise<EmulatorProcess> {
  // One process (no tsx wrapper), so the IPC channel it watches is really to this service.
  const { child, stop } = spawnTsChild('payments/emulator/main.ts', ['--port', '0', '--data-dir', dataDir, '--time-scale', String(timeScale)]);
  return new Promise((resolveStart, reject) => {
    let out = '';
    let err = '';
    let stopping = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`WeChat emulator did not start: ${err.trim() || out.trim()}`));
    }, 30_000);
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.once('exit', (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`WeChat emulator exited (${code}): ${err.trim()}`));
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      const info = JSON.parse(line) as { baseUrl: string; dataDir: string };
      log.info({ baseUrl: info.baseUrl, dataDir: info.dataDir, pid: child.pid }, 'wechat emulator started');
      // After the start, an exit nobody asked for must be seen: every payment call fails from then on.
      child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        if (!stopping) log.error({ code, signal, pid: child.pid, stderr: err.trim().slice(-1000) }, 'wechat emulator exited unexpectedly');
      });
      resolveStart({
        baseUrl: info.baseUrl,
        dataDir: info.dataDir,
        pid: child.pid ?? -1,
        stop: () => {
          stopping = true;
          return stop(5000);
        },
      });
    });
  });
}

/**
 * The sandbox's merchant portal step: WeChat sends papay terminations to the URL configured on the papay
 * template, not to the signing request's notify_url, so the service registers its contract endpoint there
 * (a live merchant enters the same URL in the portal: see README).
 */
async function configureSandboxTemplate(emulatorUrl: string, config: WechatConfig): Promise<void> {
  const res = await fetch(`${emulatorUrl}/__control/papay/template`, { method: 'POST', body: JSON.stringify({ terminationNotifyUrl: notifyUrl(config, 'contract') }), signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`WeChat emulator refused the papay template (${res.status})`);
}

export interface WechatSide {
  config: WechatConfig;
  payments: Payments;
  emulator?: EmulatorProcess;
  stop(): Promise<void>;
}

/**
 * WeChat for the service: in sandbox mode the emulator's generated merchant and base URL, in live mode the
 * WECHAT_* credentials — the same clients either way. `notifyBaseUrl` is where WeChat reaches this service.
 */
export async function startWechat(o: { config: Config; models: Models; system: ActorSystem; clock: Clock; log: Logger; notifyBaseUrl: string; leases?: JobLeases }): Promise<WechatSide | undefined> {
  const w = o.config.wechat;
  if (w.mode === 'off') return undefined;
  let emulator: EmulatorProcess | undefined;
  let env: Record<string, string | undefined> = { ...w.env, WECHAT_MODE: w.mode };
  if (w.mode === 'sandbox' && w.emulatorUrl) {
    // An emulator someone else runs: use it, never stop it.
    const dataDir = w.env.WECHAT_SANDBOX_DIR ?? resolve(o.config.dataDir, 'wechat-sandbox');
    env = { ...env, WECHAT_SANDBOX_DIR: dataDir, WECHAT_PAY_BASE_URL: w.emulatorUrl, WECHAT_API_BASE_URL: w.emulatorUrl };
    o.log.info({ baseUrl: w.emulatorUrl, dataDir }, 'using the running wechat emulator');
  } else if (w.mode === 'sandbox') {
    emulator = await startEmulatorProcess(resolve(o.config.dataDir, 'wechat-sandbox'), w.emulatorTimeScale, o.log);
    env = { ...env, WECHAT_SANDBOX_DIR: emulator.dataDir, WECHAT_PAY_BASE_URL: emulator.baseUrl, WECHAT_API_BASE_URL: emulator.baseUrl };
  }
  try {
    const config = parseWechatConfig(wechatConfigFromEnv({ WECHAT_NOTIFY_BASE_URL: o.notifyBaseUrl, ...env }));
    const log = o.log.child({ part: 'payments' });
    if (w.mode === 'sandbox') await configureSandboxTemplate(env.WECHAT_PAY_BASE_URL!, config);
    const payments = createPayments({ config, models: o.models, system: o.system, clock: o.clock, log });
    // Before serving: attempts whose outcome is unknown are resolved by query, recorded notifications processed.
    const recovered = await payments.service.recover();
    log.info(recovered, 'payments recovered');
    const stopReconciliation = scheduleReconciliation({
      clock: o.clock,
      log,
      run: (billDate) => runReconciliation({ models: o.models, v3: payments.v3, log }, billDate),
      reportStatus: async (billDate) => (await o.models.ReconciliationReport.findOne({ billDate }, { status: 1 }).lean())?.status,
      // One node of a cluster runs a day's reconciliation; the lease outlives a run (30 min) and then fails over.
      ...(o.leases ? { leader: (billDate: string) => o.leases!.lead(`reconciliation:${billDate}`, 30 * 60_000) } : {}),
    });
    return {
      config,
      payments,
      emulator,
      stop: async () => {
        stopReconciliation();
        await emulator?.stop();
      },
    };
  } catch (e) {
    await emulator?.stop();
    throw e;
  }
}
