import { BUCKETS, type SetSummary } from './independent-score';

/**
 * The side-by-side text report of vision/eval/independent.cli.ts: the headline table (one row per set), the
 * share of visits held for review by what the scene had, and the reliability of the settled visits'
 * confidence. Every figure is synthetic: rendered or composited scenes, not real cabinets.
 */
const pct = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`;

/** Plain monospace table: first column left-aligned, the rest right-aligned. */
export function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function headline(sets: readonly SetSummary[]): string {
  return table(
    ['set (2 cameras)', 'visits', 'settled', 'exact among settled (95% CI)', 'held for review', 'overcharged visits', 'overcharged fen'],
    sets.map((s) => [
      s.set,
      String(s.visits),
      String(s.settled),
      `${pct(s.exactAmongSettled, 2)} (${pct(s.exactInterval[0])}–${pct(s.exactInterval[1])})`,
      `${pct(s.heldShare)} (${s.held})`,
      String(s.overcharged),
      String(s.overchargeFen),
    ]),
  );
}

/** The causes first, then every other condition alphabetically. */
const FIRST = ['backdrop:wood', 'backdrop:ribbed', 'backdrop:perforated', 'backdrop:wrap', 'backdrop:painted', 'light:warm<4000K', 'hand_in_after', 'shake', 'nudged', 'leaning', 'jpeg<70'];

export function byCondition(sets: readonly SetSummary[]): string {
  const all = [...new Set(sets.flatMap((s) => s.byCondition.map((c) => c.condition)))];
  const order = [...FIRST.filter((c) => all.includes(c)), ...all.filter((c) => !FIRST.includes(c)).sort()];
  const head = ['condition (share of visits held)', ...sets.flatMap((s) => [`${s.set}: held / visits`, 'over']), ];
  const rows = [
    ['(all visits)', ...sets.flatMap((s) => [`${pct(s.heldShare)} (${s.held}/${s.visits})`, String(s.overcharged)])],
    ...order.map((c) => [
      c,
      ...sets.flatMap((s) => {
        const row = s.byCondition.find((x) => x.condition === c);
        return row ? [`${pct(row.heldShare)} (${row.held}/${row.visits})`, String(row.overcharged)] : ['—', '—'];
      }),
    ]),
  ];
  return table(head, rows);
}

export function reliability(sets: readonly SetSummary[]): string {
  const head = ['settled confidence', ...sets.flatMap((s) => [`${s.set}: n`, 'mean conf', 'exact'])];
  const rows = BUCKETS.map(([lo, hi]) => [
    `[${lo.toFixed(3)}, ${Math.min(1, hi).toFixed(3)}${hi > 1 ? ']' : ')'}`,
    ...sets.flatMap((s) => {
      const b = s.reliability.find((r) => r.lo === lo);
      return b && b.settled > 0 ? [String(b.settled), b.meanConfidence.toFixed(4), `${pct(b.exactShare)} (${b.exact})`] : ['0', '—', '—'];
    }),
  ]);
  rows.push(['held (best reading exact)', ...sets.flatMap((s) => [String(s.held), '', s.held ? `${pct(s.heldButExact / s.held)} (${s.heldButExact})` : '—'])]);
  return table(head, rows);
}

export function details(sets: readonly SetSummary[]): string {
  return sets
    .map((s) => {
      const reasons = Object.entries(s.reasons).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
      const conf = s.confusions.slice(0, 8).map((c) => `${c.truth}→${c.got}×${c.n}`).join(', ') || 'none';
      return `${s.set}: review reasons (visits): ${reasons}\n  wrong settled (truth→got): ${conf}\n  recognise p50 / p95: ${s.latencyP50Ms.toFixed(0)} / ${s.latencyP95Ms.toFixed(0)} ms`;
    })
    .join('\n');
}

export function report(title: string, sets: readonly SetSummary[], notes: readonly string[]): string {
  return [
    `${title}  [synthetic: rendered / composited scenes, not real cabinets]`,
    '',
    headline(sets),
    '',
    'Share of visits held for review, by what the scene had (over = overcharged visits with that condition):',
    byCondition(sets.filter((s) => s.byCondition.length > 0)),
    '',
    'Reliability: predicted visit confidence vs observed exactness among settled visits:',
    reliability(sets),
    '',
    details(sets),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}
