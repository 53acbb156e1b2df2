#!/usr/bin/env node
// Installs whatever this checkout is missing, with progress, and does nothing when all is in place:
//   1. node modules (npm ci when node_modules is absent or was installed from another package-lock.json);
//   2. the FerretDB binary, built from tools/ferretdb through the Go module proxy (with the small source patches
//      of tools/ferretdb/patches.json applied to the vendored module) and cached per source hash under
//      ~/.cache/cabinet-fleet, so only the first run on a machine pays for the build;
//   3. the operator console (web-admin/dist, Vite), rebuilt when its sources change (hash stamp in dist);
//   4. Debian's chromium for the console's browser tests (apt-get, as root), when /usr/bin/chromium is missing;
//   5. Debian's redis-server and haproxy for a cluster of nodes (`npm run cluster`, its test), when missing.
// It uses nothing but Node itself, because it runs before node_modules exists.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, copyFileSync, chmodSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
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
  // onnxruntime-node's postinstall would download CUDA files; its bundled CPU runtime is what runs. An npm
  // that reads package.json's allowScripts never runs that script (denied there); an older one does, and this
  // variable makes it skip the download.
  await run('npm install', 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=warn'], {
    env: { ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  writeFileSync(marker, want + '\n');
  say('node modules installed');
}

/**
 * Builds tools/ferretdb into `out`: the module is vendored in a scratch directory, each patch of
 * tools/ferretdb/patches.json (an exact string, found exactly once, replaced) is applied to the vendored
 * source, and the binary is built from the vendor tree. A patch that no longer matches stops the build.
 */
async function buildFerretDb(out) {
  const env = { GOTOOLCHAIN: 'local', CGO_ENABLED: '0' };
  const work = mkdtempSync(join(tmpdir(), 'cabinet-fleet-ferretdb-'));
  try {
    for (const f of ['main.go', 'go.mod', 'go.sum']) copyFileSync(join(root, 'tools', 'ferretdb', f), join(work, f));
    await run('go mod vendor', 'go', ['mod', 'vendor'], { cwd: work, env: { ...env, GOFLAGS: '-mod=mod' } });
    for (const p of JSON.parse(readFileSync(join(root, 'tools', 'ferretdb', 'patches.json'), 'utf8'))) {
      const file = join(work, 'vendor', p.module, p.file);
      const src = readFileSync(file, 'utf8');
      if (src.split(p.from).length !== 2) throw new Error(`patch of ${p.module}/${p.file} does not apply: "${p.from}" must occur exactly once`);
      writeFileSync(file, src.replace(p.from, p.to));
      say(`patched ${p.module}/${p.file}`);
    }
    await run('go build ferretdb', 'go', ['build', '-trimpath', '-o', out, '.'], { cwd: work, env: { ...env, GOFLAGS: '-mod=vendor' } });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function ensureFerretDb() {
  const srcHash = sha(['tools/ferretdb/main.go', 'tools/ferretdb/go.mod', 'tools/ferretdb/go.sum', 'tools/ferretdb/patches.json']);
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
      await buildFerretDb(tmp);
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

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(join(root, dir)).sort()) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...listFiles(rel));
    else out.push(rel);
  }
  return out;
}

async function ensureConsoleBuild() {
  const sources = [...listFiles('web-admin/src'), 'web-admin/index.html', 'web-admin/vite.config.mts', 'web-admin/tsconfig.json', ...listFiles('contracts'), 'package-lock.json'];
  const want = sha(sources);
  const stamp = join(root, 'web-admin', 'dist', '.source-hash');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return;
  say('building the operator console (web-admin, Vite)…');
  await run('vite build', process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web-admin', '--logLevel', 'warn'], { env: { VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' } });
  writeFileSync(stamp, want + '\n');
  say('operator console built into web-admin/dist');
}

/** Chromium, and a CJK font so the console's Chinese renders in screenshots (not tofu). */
async function ensureChromium() {
  const font = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
  if ((process.env.CHROMIUM_BIN ? existsSync(process.env.CHROMIUM_BIN) : existsSync('/usr/bin/chromium')) && (existsSync(font) || process.env.CHROMIUM_BIN)) return;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    say('Debian chromium or its CJK font is missing and this is not root: install them with `sudo apt-get install -y chromium fonts-wqy-microhei` (or set CHROMIUM_BIN); the browser tests need it');
    return;
  }
  say('installing Debian chromium and a CJK font for the browser tests (apt-get update, apt-get install; a minute or two)…');
  await run('apt-get update', 'apt-get', ['update', '-q']);
  await run('apt-get install chromium', 'apt-get', ['install', '-y', '-q', 'chromium', 'fonts-wqy-microhei'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
  say('chromium installed');
}

/** Debian's redis-server and haproxy: the cluster's shared Redis and its one address (tools/cluster). */
async function ensureClusterParts() {
  const missing = [['redis-server', '/usr/bin/redis-server'], ['haproxy', '/usr/sbin/haproxy']].filter(([, bin]) => !existsSync(bin)).map(([pkg]) => pkg);
  if (!missing.length) return;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    say(`Debian ${missing.join(' and ')} missing and this is not root: install with \`sudo apt-get install -y ${missing.join(' ')}\`; the cluster and its test need them`);
    return;
  }
  say(`installing Debian ${missing.join(' and ')} for the cluster (apt-get update, apt-get install)…`);
  await run('apt-get update', 'apt-get', ['update', '-q']);
  await run(`apt-get install ${missing.join(' ')}`, 'apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
  say(`${missing.join(' and ')} installed`);
}

/** For `npm test`: the WxJava cross-check driver (tools/setup/crosscheck-java.mjs); its test fails loudly without it. */
async function ensureCrosscheckJava() {
  const { ensureCrosscheckJar } = await import('./crosscheck-java.mjs');
  await ensureCrosscheckJar({ say }).catch((e) => say(`WARNING: the WxJava cross-check driver could not be built, its test will fail: ${e.message}`));
}

try {
  await ensureNodeModules();
  await ensureFerretDb();
  await ensureConsoleBuild();
  if (process.argv.includes('--with-browser') || process.env.npm_lifecycle_event === 'test') await ensureChromium();
  if (process.env.npm_lifecycle_event === 'test') await ensureCrosscheckJava();
  if (process.env.npm_lifecycle_event === 'test' || process.env.npm_lifecycle_event === 'cluster') await ensureClusterParts();
  if (Date.now() - t0 > 1000) say('ready');
} catch (e) {
  say(`failed: ${e.message}`);
  process.exit(1);
}
