import { parseCount, parseDuration, parseShare } from './args';

describe('CLI argument parsers', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['250', 250],
  ])('duration %s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('refuses what it cannot read', () => {
    expect(() => parseDuration('soon')).toThrow('not a duration');
    expect(() => parseCount('1.5', 'count')).toThrow('--count');
    expect(parseCount('10_000', 'count')).toBe(10_000);
    expect(() => parseShare('2', 'no-show')).toThrow('--no-show');
  });
});
