import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Every command-line tool, run as a user runs it: `--help` exits 0 and lists its real flags; a wrong flag is
 * named and exits 2; a service that is not there is named by its address and exits 1. No service is started:
 * the address is a loopback port that was just closed.
 */
const root = resolve(__dirname, '..');
const TSX = resolve(root, 'node_modules', '.bin', 'tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    const base = { ...process.env };
    for (const k of ['PORT', 'DATA_DIR', 'ADMIN_TOKEN', 'MONGODB_URI']) delete base[k];
    execFile(TSX, [resolve(root, file), ...args], { cwd: root, env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const PROVISION = 'tools/provision/provision.cli.ts';
const ACCOUNTS = 'tools/accounts/create-account.cli.ts';
const SHOPPER = 'tools/shopper/shopper.cli.ts';
const SIMULATOR = 'tools/simulator/simulator.cli.ts';
const SEED = 'tools/seed/seed.cli.ts';
const MAIN = 'app/main.ts';
const AUDIT = 'tools/audit/money-audit.cli.ts';
const EVAL = 'vision/eval/evaluate.cli.ts';
const TUNE = 'vision/eval/tune.cli.ts';
const VISION_BENCH = 'vision/bench/bench.cli.ts';
const PAYMENTS_BENCH = 'payments/bench/deductions.bench.ts';
const CONSOLE_BENCH = 'web-admin/bench/feed.bench.ts';
const FLEET_BENCH = 'tools/bench/fleet.bench.ts';

jest.setTimeout(120_000);

let dead: string;
let dir: string;
beforeAll(async () => {
  dead = `http://127.0.0.1:${await closedPort()}`;
  dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--help', () => {
  it.each([
    [PROVISION, ['--id', '--kind', '--site', '--cameras', '--url']],
    [ACCOUNTS, ['--username', '--name', '--role', '--sites', '--url']],
    [SHOPPER, ['open', 'semi', 'auto', 'debts', '--data-dir', '--url', 'PORT', 'DATA_DIR']],
    [SIMULATOR, ['--url', '--count', '--demo', '--data-dir']],
    [SEED, ['MONGODB_URI', 'DATA_DIR']],
    [MAIN, ['PORT', 'MONGODB_URI', 'LOG_FORMAT', 'DATA_DIR']],
    [AUDIT, ['--emulator-url', 'MONGODB_URI', 'WECHAT_EMULATOR_URL', 'exit']],
    [EVAL, ['--split', '--visits', '--ci', '--write-manifest']],
    [TUNE, ['--visits', '--target']],
    [VISION_BENCH, ['--visits', '--pool', '--write-manifest']],
    [PAYMENTS_BENCH, ['shoppers', 'attemptsPerShopper']],
    [CONSOLE_BENCH, ['--cabinets', '--changes', '--seconds', '--devices', '--unlocks']],
    [FLEET_BENCH, ['--count', '--clients', '--unlocks', '--rows', '--mongodb-uri']],
  ])('%s --help lists its flags and exits 0 without doing anything else', async (file, words) => {
    const r = await cli(file, ['--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    for (const w of words) expect(r.stdout).toContain(w);
  });
});

describe('wrong flags are named and exit 2', () => {
  it('provision: an unknown flag, and missing values named by their real flags', async () => {
    const unknown = await cli(PROVISION, ['--cabinetId', 'X']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--cabinetId/);
    expect(unknown.stderr).toMatch(/--help/);
    const missing = await cli(PROVISION, ['--kind', 'semi', '--url', dead]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--id/);
    expect(missing.stderr).toMatch(/--site/);
    expect(missing.stderr).not.toMatch(/--cabinetId|--siteId/);
  });

  it('console:admin and the simulator name the flag', async () => {
    const acc = await cli(ACCOUNTS, ['--user', 'alice']);
    expect(acc.code).toBe(2);
    expect(acc.stderr).toMatch(/--user/);
    const sim = await cli(SIMULATOR, ['--url', dead, '--count', 'many']);
    expect(sim.code).toBe(2);
    expect(sim.stderr).toMatch(/--count/);
  });

  it.each([
    [AUDIT, ['--emulator'], "Unknown option '--emulator'"],
    // Before, vision:eval matched flags by position and ignored the rest: this started a 1000-visit run.
    [EVAL, ['--visit', '50'], "Unknown option '--visit'"],
    [EVAL, ['--visits', 'fifty'], '--visits: expected a whole number ≥ 1, got "fifty"'],
    [EVAL, ['--split', 'train'], '--split: expected test or validation'],
    [TUNE, ['--target', '2'], '--target: expected a number ≥ 0 ≤ 1, got "2"'],
    [PAYMENTS_BENCH, ['many'], 'shoppers: expected a whole number ≥ 1, got "many"'],
    [CONSOLE_BENCH, ['--cabinets', '0'], '--cabinets: expected a whole number ≥ 1, got "0"'],
    [FLEET_BENCH, ['--cout', '10'], "Unknown option '--cout'"],
    [FLEET_BENCH, ['--rows', 'bare,other'], '--rows: bare and/or service, not "other"'],
  ])('%s %j is refused, naming the flag, exit 2, nothing run', async (file, args, message) => {
    const r = await cli(file, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('--help');
    expect(r.stdout).toBe('');
  });

  it('npm start with an argument says it takes none', async () => {
    const r = await cli(MAIN, ['--port', '9000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port/);
    expect(r.stderr).toMatch(/PORT=/);
  });
});

describe('a service that is not there is named by its address, exit 1', () => {
  it('provision and console:admin', async () => {
    const env = { ADMIN_TOKEN: 'x'.repeat(32) };
    for (const r of await Promise.all([
      cli(PROVISION, ['--id', 'P-1', '--kind', 'semi', '--site', 'lab-site', '--url', dead], env),
      cli(ACCOUNTS, ['--username', 'alice', '--url', dead], env),
    ])) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(dead);
      expect(r.stderr).toMatch(/ECONNREFUSED/);
      expect(r.stderr).toMatch(/--url/);
    }
  });

  it('the simulator exits 1 instead of running offline cabinets', async () => {
    const r = await cli(SIMULATOR, ['--url', dead, '--count', '2', '--admin-token', 'x'.repeat(32), '--data-dir', dir, '--duration', '2s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(dead);
  });

  it('the shopper reads DATA_DIR (and --data-dir) for the demo addresses and names what it tried', async () => {
    const noDemo = await cli(SHOPPER, ['open'], { DATA_DIR: dir });
    expect(noDemo.code).toBe(1);
    expect(noDemo.stderr).toContain(join(dir, 'demo.json'));
    expect(noDemo.stderr).toMatch(/--data-dir/);
    writeFileSync(join(dir, 'demo.json'), JSON.stringify({ url: dead, wechatUrl: dead }));
    for (const r of await Promise.all([cli(SHOPPER, ['open'], { DATA_DIR: dir }), cli(SHOPPER, ['open', '--data-dir', dir])])) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(dead);
      expect(r.stderr).not.toMatch(/^fetch failed$/m);
    }
  });

  it('the shopper takes PORT for the service when no demo.json names it', async () => {
    const port = new URL(dead).port;
    const r = await cli(SHOPPER, ['open', '--wechat-url', dead], { DATA_DIR: join(dir, 'none'), PORT: port });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${port}`);
  });

  it('seed against an unreachable MONGODB_URI names the host and the variable', async () => {
    const port = new URL(dead).port;
    const r = await cli(SEED, [], { MONGODB_URI: `mongodb://user:hunter2@127.0.0.1:${port}/x?serverSelectionTimeoutMS=500`, DATA_DIR: dir, WECHAT_MODE: 'off', LOG_LEVEL: 'silent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${port}`);
    expect(r.stderr).toMatch(/MONGODB_URI/);
    expect(r.stderr).not.toContain('hunter2');
  });
});
