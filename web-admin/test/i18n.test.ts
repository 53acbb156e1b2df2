import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Role } from '../../contracts/admin-api';
import { AlarmKind, AlarmStatus, CabinetState, WebhookFormat } from '../../contracts/console-api';
import { FlowKind } from '../../contracts/domain';
import { SessionState } from '../../contracts/shopper-api';
import { entry, FAMILIES, has, missingTranslations } from '../src/i18n';

const SRC = resolve(__dirname, '..', 'src');
const files = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));
const sources = files(SRC).map((f) => ({ f, text: readFileSync(f, 'utf8') }));
const CJK = /[\u3400-\u9fff]/;
/** Entries whose Chinese is the same word as the English on purpose. */
const SAME_IN_BOTH = new Set(['col.openid']);

describe('console translations: complete in both languages', () => {
  it('has no key missing in either language', () => {
    expect(missingTranslations()).toEqual([]);
  });

  it('has every key the sources name (t("…")), in both languages', () => {
    const used = new Set<string>();
    for (const { text } of sources) for (const m of text.matchAll(/\bt\(\s*'([^'`$]+)'/g)) used.add(m[1]!);
    expect(used.size).toBeGreaterThan(150);
    expect([...used].filter((k) => !has(k))).toEqual([]);
  });

  it('has every value of every status family the pages show (tv("family", …)), checked against the contracts', () => {
    for (const { f, text } of sources) for (const m of text.matchAll(/\btv\(\s*'([a-z]+)'/g)) expect([f, m[1], m[1]! in FAMILIES]).toEqual([f, m[1], true]);
    const fromContracts: Record<string, readonly string[]> = { state: CabinetState.options, sstatus: SessionState.options, alarm: AlarmKind.options, astatus: AlarmStatus.options, role: Role.options, kind: FlowKind.options, format: WebhookFormat.options };
    for (const [family, values] of Object.entries(fromContracts)) expect([family, [...FAMILIES[family]!].sort()]).toEqual([family, [...values].sort()]);
    const missing = Object.entries(FAMILIES).flatMap(([family, values]) => values.map((v) => `${family}.${v}`)).filter((k) => !has(k));
    expect(missing).toEqual([]);
  });

  it('writes the Chinese side in Chinese (no English copied across)', () => {
    const keys = sources.flatMap(({ text }) => [...text.matchAll(/\bt\(\s*'([^'`$]+)'/g)].map((m) => m[1]!));
    const family = Object.entries(FAMILIES).flatMap(([f, vs]) => vs.map((v) => `${f}.${v}`));
    const english = [...new Set([...keys, ...family])].filter((k) => !SAME_IN_BOTH.has(k) && !CJK.test(entry(k)?.[0] ?? ''));
    expect(english).toEqual([]);
  });
});
