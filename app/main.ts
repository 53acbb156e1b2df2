import { ConfigError, loadConfig } from './config';
import { createLogger } from '../common/log';
import { resolve } from 'node:path';
import { startService, type Service } from './service';
import { DEMO_HELP, startDemoSimulator } from './demo';
import { consoleHelp } from './console';
import { applyGcTuning } from './gc';

/** `npm start`: validate configuration, start the service, stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\nThe service did not start.\n`);
      process.exit(2);
    }
    throw e;
  }
  applyGcTuning(config.gc);
  const log = createLogger({ level: config.log.level });

  // Handlers go in before anything starts: a signal during start-up waits for it, then stops cleanly.
  const run: { starting?: Promise<Service> } = {};
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ sig }, 'second signal: exiting now');
      process.exit(1);
    }
    void (run.starting ?? Promise.reject(new Error('not started')))
      .then((service) => service.stop(sig))
      .then(
        () => process.exit(0),
        (e: unknown) => {
          log.error({ err: String(e) }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  run.starting = startService(config, { log }).then((service) => {
    const emulator = service.wechat?.emulator;
    if (config.demoSimulator && emulator) {
      const sim = startDemoSimulator({ url: service.url, wechatUrl: emulator.baseUrl, dataDir: resolve(config.dataDir), log: log.child({ part: 'demo' }) });
      const stop = service.stop.bind(service);
      return Object.assign(service, {
        async stop(reason?: string) {
          await sim.stop();
          await stop(reason);
        },
      });
    }
    return service;
  });
  const service = await run.starting;
  process.stdout.write(`\nCabinet fleet service is up at ${service.url}  (health: ${service.url}/readyz, metrics: ${service.url}/metrics)\n\n`);
  process.stdout.write(consoleHelp(service.url, config.dataDir) + '\n');
  if (config.demoSimulator && service.wechat?.emulator) process.stdout.write(DEMO_HELP(service.url, config.dataDir) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`Start failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
