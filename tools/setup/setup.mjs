#!/usr/bin/env node
// Installs whatever this checkout is missing, with progress, and does nothing when all is in place:
//   1. node modules (npm ci when node_modules is absent or was installed from another package-lock.json);
//   2. the FerretDB binary, built from tools/ferretdb through the Go module proxy and cached per source hash
//      under ~/.cache/cabinet-fleet, so only the first run on a machine pays for the build.
// It uses nothing but Node itself, because it runs before node_modules exists.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync, chmodSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const t0 = Date.now();
const say = (msg) => process.stderr.write(`[setup +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);

function sha(files) {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(join(root, f)));
  return h.digest('hex').slice(0, 16);
}

/** Runs a command with inherited output and a heartbeat line every 15 s so long steps show they are alive. */
function run(label, cmd, args, { cwd = root, env = {} } = {}) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });
    const ticker = setInterval(() => say(`${label}: still working…`), 15000);
    child.on('error', (e) => {
      clearInterval(ticker);
      rej(e);
    });
    child.on('exit', (code) => {
      clearInterval(ticker);
      code === 0 ? res() : rej(new Error(`${label}: ${cmd} ${args.join(' ')} exited with ${code}`));
    });
  });
}

async function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.cabinet-fleet-installed');
  const want = sha(['package-lock.json']);
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === want) return;
  say('installing node modules (npm install from package-lock.json)…');
  // onnxruntime-node's postinstall would download CUDA files; skip keeps its bundled CPU runtime.
  await run('npm install', 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=warn'], {
    env: { ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  writeFileSync(marker, want + '\n');
  say('node modules installed');
}

async function ensureFerretDb() {
  const srcHash = sha(['tools/ferretdb/main.go', 'tools/ferretdb/go.mod', 'tools/ferretdb/go.sum']);
  const cacheRoot = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const cached = join(cacheRoot, 'cabinet-fleet', `ferretdb-v1.24.2-${srcHash}`);
  const local = join(root, '.cache', 'bin', 'ferretdb');
  const stamp = `${local}.src`;
  if (existsSync(local) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === srcHash) return;
  if (!existsSync(cached)) {
    say('building FerretDB v1.24.2 (SQLite backend) through the Go module proxy; the first build takes 1–3 minutes…');
    mkdirSync(dirname(cached), { recursive: true });
    const tmp = `${cached}.tmp-${process.pid}`;
    try {
      await run('go build ferretdb', 'go', ['build', '-trimpath', '-o', tmp, '.'], {
        cwd: join(root, 'tools', 'ferretdb'),
        env: { GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
      });
    } catch (e) {
      throw new Error(`${e.message}. FerretDB needs Go ≥ 1.24 and the Go module proxy.`);
    }
    renameSync(tmp, cached);
    say(`FerretDB built and cached at ${cached}`);
  }
  mkdirSync(dirname(local), { recursive: true });
  copyFileSync(cached, local);
  chmodSync(local, 0o755);
  writeFileSync(stamp, srcHash + '\n');
}

try {
  await ensureNodeModules();
  await ensureFerretDb();
  if (Date.now() - t0 > 1000) say('ready');
} catch (e) {
  say(`failed: ${e.message}`);
  process.exit(1);
}
