import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Production code never imports tools/ (the simulator, seeders, benchmarks, setup): what runs in the
 * service must not depend on the project's own stand-ins. Every import and require of every non-test
 * source under the production folders is resolved and checked.
 */
const ROOT = join(__dirname, '..');
const PRODUCTION = ['app', 'actors', 'payments', 'gateways', 'vision', 'store', 'common', 'contracts'];
const TESTISH = /(\.test\.ts|\.d\.ts)$|\/(bench|test|testing|crosscheck-java)\//;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const SPECIFIER = /(?:from\s+|import\s*\(\s*|require\(\s*)['"]([^'"]+)['"]/g;

function toolsImports(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1]!;
    if (!spec.startsWith('.')) continue;
    const target = relative(ROOT, resolve(dirname(file), spec)).split('\\').join('/');
    if (target === 'tools' || target.startsWith('tools/')) out.push(spec);
  }
  return out;
}

describe('production code and tools/', () => {
  it('no production source imports anything under tools/', () => {
    const offenders: string[] = [];
    for (const top of PRODUCTION)
      for (const file of sources(join(ROOT, top))) {
        const rel = relative(ROOT, file).split('\\').join('/');
        if (TESTISH.test(rel)) continue;
        for (const spec of toolsImports(file, readFileSync(file, 'utf8'))) offenders.push(`${rel} imports ${spec}`);
      }
    expect(offenders).toEqual([]);
  });

  it('recognises an import into tools/ by any route', () => {
    const file = join(ROOT, 'app', 'x.ts');
    expect(toolsImports(file, "import { DEMO_FLEET } from '../tools/seed/demo-data';")).toHaveLength(1);
    expect(toolsImports(file, "const m = await import('../tools/simulator/cabinet');")).toHaveLength(1);
    expect(toolsImports(file, "const x = require('../tools')")).toHaveLength(1);
    expect(toolsImports(file, "import { x } from '../contracts/tools-list';")).toHaveLength(0);
    expect(toolsImports(join(ROOT, 'vision', 'render', 'y.ts'), "import { z } from '../../tools/setup/x';")).toHaveLength(1);
  });
});
