import * as fs from 'fs';
import * as path from 'path';
import { SHOPPER_ROUTES, API_PREFIX } from '../../../contracts/shopper-api';
import { API_PREFIX_VALUE, ROUTES } from './wire';

const ROOT = path.resolve(__dirname, '..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'test' ? [] : sources(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('the shipped code takes only types from outside miniprogramRoot', () => {
  test('every import of contracts/ or zod is type-only, so nothing outside the package is required at run time', () => {
    const offenders: string[] = [];
    for (const file of sources(ROOT)) {
      const src = fs.readFileSync(file, 'utf8');
      for (const m of src.matchAll(/^\s*(import|export)\s+([^;]*?)\s+from\s+'([^']+)'/gms)) {
        const spec = m[3]!;
        const typeOnly = /^type\b/.test(m[2]!.trim());
        if (!typeOnly && (spec.includes('contracts/') || spec === 'zod' || !spec.startsWith('.'))) offenders.push(`${path.relative(ROOT, file)}: ${m[0].trim().split('\n')[0]}`);
        if (spec.startsWith('.') && !path.resolve(path.dirname(file), spec).startsWith(ROOT) && !typeOnly) offenders.push(`${path.relative(ROOT, file)} reaches outside: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  test('the route table mirrors the contract at run time too', () => {
    expect(API_PREFIX_VALUE).toBe(API_PREFIX);
    const strip = Object.fromEntries(Object.entries(SHOPPER_ROUTES).map(([k, r]) => [k, { method: r.method, path: r.path, auth: r.auth }]));
    expect(ROUTES).toEqual(strip);
  });
});
