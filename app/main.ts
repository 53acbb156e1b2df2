import { ConfigError, configVariables, loadConfig } from './config';
import { createLogger } from '../common/log';
import { resolve } from 'node:path';
import { startService, type Service } from './service';
import { DEMO_HELP, startDemoSimulator } from './demo';
import { consoleHelp } from './console';
import { applyGcTuning } from './gc';

const help = (): string => `Cabinet fleet service: npm start runs it (after tools/setup installs what is missing).

It takes no arguments; it is configured by environment variables, validated at start (README.md, "Configuration"):

${configVariables()
  .map((v) => `  ${v.name.padEnd(28)} default ${v.default}`)
  .join('\n')}
  WECHAT_*                     live WeChat Pay credentials (WECHAT_MODE=live; README.md, "WeChat: sandbox and live")

e.g.  PORT=9000 DATA_DIR=/tmp/fleet npm start      LOG_FORMAT=json npm start
`;

/** `npm start`: validate configuration, start the service, stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(help());
    process.exit(0);
  }
  if (args.length > 0) {
    process.stderr.write(`npm start takes no arguments (got ${args.join(' ')}); set environment variables instead, e.g. PORT=9000 npm start. See npm start -- --help.\n`);
    process.exit(2);
  }
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
  const log = createLogger({ level: config.log.level, format: config.log.format });

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
  // A promise nobody awaited that failed (a bug: every path should handle its errors) is logged loudly, and the
  // service goes on: Node's default would end every cabinet's link, visit and payment for one stray rejection.
  process.on('unhandledRejection', (reason: unknown) => {
    log.error({ err: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason) }, 'unhandled rejection (a bug): logged, service goes on');
  });
  // Exit non-zero when the service cannot go on, after a bounded attempt at an orderly stop.
  const onFatal = (reason: string) => {
    log.error({ reason }, 'fatal: the service stops and exits with status 1');
    setTimeout(() => process.exit(1), 5000).unref();
    void (run.starting ?? Promise.reject(new Error('not started')))
      .then((service) => service.stop('fatal'))
      .catch(() => undefined)
      .finally(() => process.exit(1));
  };

  run.starting = startService(config, { log, onFatal }).then((service) => {
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
