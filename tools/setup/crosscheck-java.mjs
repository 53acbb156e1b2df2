#!/usr/bin/env node
// The WxJava cross-check driver (payments/crosscheck-java, Maven): built once per source hash into
// ~/.cache/cabinet-fleet/crosscheck-java-<hash>.jar and copied to .cache/bin/crosscheck-java.jar. Maven
// runs offline first (the shared ~/.m2 usually has everything after the first fetch) and goes online only
// when that fails. Used by tools/setup/setup.mjs for `npm test` and by payments/emulator/crosscheck-java.test.ts;
// run alone it prints the jar's path: `node tools/setup/crosscheck-java.mjs`.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const project = join(root, 'payments', 'crosscheck-java');

function sources(dir = project) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'target') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else out.push(p);
  }
  return out;
}

/** Hash over every source file's path and bytes (the build output is not a source). */
export function crosscheckSourceHash() {
  const h = createHash('sha256');
  for (const f of sources()) h.update(relative(project, f)).update('\0').update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

function mvn(args, cwd, say) {
  return new Promise((res, rej) => {
    const child = spawn('mvn', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (d) => {
      tail = (tail + d.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const ticker = setInterval(() => say('maven: still working…'), 15000);
    child.on('error', (e) => {
      clearInterval(ticker);
      rej(new Error(`cannot run mvn (${e.message}); the cross-check needs Java 17 and Maven`));
    });
    child.on('exit', (code) => {
      clearInterval(ticker);
      code === 0 ? res() : rej(new Error(`mvn ${args.join(' ')} exited with ${code}:\n${tail}`));
    });
  });
}

/** Builds (when the cached jar for the current sources is missing) and returns the jar's path. */
export async function ensureCrosscheckJar({ say = (m) => process.stderr.write(`[crosscheck-java] ${m}\n`) } = {}) {
  const hash = crosscheckSourceHash();
  const cacheRoot = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const cached = join(cacheRoot, 'cabinet-fleet', `crosscheck-java-${hash}.jar`);
  const local = join(root, '.cache', 'bin', 'crosscheck-java.jar');
  const stamp = `${local}.src`;
  if (existsSync(local) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return local;
  if (!existsSync(cached)) {
    const work = mkdtempSync(join(tmpdir(), 'cabinet-fleet-crosscheck-'));
    try {
      cpSync(project, work, { recursive: true, filter: (src) => !src.includes(`${join(project, 'target')}`) });
      const args = ['-B', '--no-transfer-progress', '-q', 'package', '-DskipTests'];
      say('building the WxJava cross-check driver (Maven, offline from ~/.m2)…');
      try {
        await mvn(['-o', ...args], work, say);
      } catch {
        say('offline build failed; fetching WxJava 4.7.0 and its dependencies from Maven Central (first time: a minute or two)…');
        await mvn(args, work, say);
      }
      mkdirSync(dirname(cached), { recursive: true });
      const tmp = `${cached}.tmp-${process.pid}`;
      copyFileSync(join(work, 'target', 'crosscheck.jar'), tmp);
      renameSync(tmp, cached);
      say(`cross-check driver built and cached at ${cached}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  mkdirSync(dirname(local), { recursive: true });
  copyFileSync(cached, local);
  chmodSync(local, 0o644);
  writeFileSync(stamp, hash + '\n');
  return local;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${await ensureCrosscheckJar()}\n`);
  } catch (e) {
    process.stderr.write(`[crosscheck-java] failed: ${e.message}\n`);
    process.exit(1);
  }
}
