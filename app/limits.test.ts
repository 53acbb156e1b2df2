import { checkOpenFileLimit, FD_HEADROOM, openFilesNeeded, readOpenFileLimits } from './limits';

const PROC = `Limit                     Soft Limit           Hard Limit           Units
Max processes             62987                62987                processes
Max open files            1024                 20000                files
Max locked memory         8388608              8388608              bytes
`;

function recorder() {
  const warnings: Array<{ obj: unknown; msg?: string }> = [];
  const log = { debug() {}, info() {}, error() {}, warn: (obj: unknown, msg?: string) => void warnings.push({ obj, msg }), child: () => log };
  return { log, warnings };
}

describe('open-file limit at start-up', () => {
  it('reads the soft and hard limits from /proc/self/limits', () => {
    expect(readOpenFileLimits(PROC)).toEqual({ soft: 1024, hard: 20000 });
    expect(readOpenFileLimits(PROC.replace('1024                 20000', 'unlimited            unlimited'))).toBeUndefined();
    expect(readOpenFileLimits(PROC.replace(/20000/, 'unlimited'))).toEqual({ soft: 1024, hard: Number.POSITIVE_INFINITY });
    expect(readOpenFileLimits('nothing here')).toBeUndefined();
    // This process's own, when on Linux.
    const own = readOpenFileLimits();
    if (own) expect(own.soft).toBeGreaterThan(0);
  });

  it('warns with the numbers when the fleet needs more descriptors than the soft limit allows', () => {
    const { log, warnings } = recorder();
    expect(checkOpenFileLimit(log, 10_000, { soft: 1024, hard: 20_000 })).toEqual({ softLimit: 1024, hardLimit: 20_000, cabinets: 10_000, needed: 10_000 + FD_HEADROOM, fix: `ulimit -n ${10_000 + FD_HEADROOM} (the hard limit allows it) before npm start` });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toBe(`open-file limit 1024 is below the ${10_000 + FD_HEADROOM} the registered fleet needs (10000 cabinets, one socket each, + ${FD_HEADROOM})`);
  });

  it('says the hard limit must rise first when it is below the need too', () => {
    const { log } = recorder();
    expect(checkOpenFileLimit(log, 30_000, { soft: 20_000, hard: 20_000 })?.fix).toMatch(/raise the hard limit to at least 30512 .*LimitNOFILE=30512/);
  });

  it('is quiet when the limit suffices, exactly at the need, or unknown', () => {
    const { log, warnings } = recorder();
    expect(checkOpenFileLimit(log, 100, { soft: 20_000, hard: 20_000 })).toBeUndefined();
    expect(checkOpenFileLimit(log, 488, { soft: openFilesNeeded(488), hard: 20_000 })).toBeUndefined();
    expect(checkOpenFileLimit(log, 489, { soft: openFilesNeeded(488), hard: 20_000 })).toBeDefined();
    expect(checkOpenFileLimit({ ...log, warn: () => undefined }, 5, undefined)).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });
});
