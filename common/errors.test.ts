import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShopperErrorCode } from '../contracts/shopper-api';
import { AppError, ERRORS } from './errors';

describe('error catalogue', () => {
  it('matches docs/errors.md row for row', () => {
    const doc = readFileSync(join(__dirname, '..', 'docs', 'errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| ([A-Z_]+) \| (\d{3}) \| (yes|no) \| (.+) \|$/gm)].map((m) => ({
      code: m[1],
      status: Number(m[2]),
      retryable: m[3] === 'yes',
      message: m[4],
    }));
    const catalogue = Object.entries(ERRORS).map(([code, e]) => ({ code, status: e.status, retryable: e.retryable, message: e.message }));
    expect(rows).toEqual(catalogue);
  });

  it('carries status and retryability with the code', () => {
    const e = new AppError('RATE_LIMITED');
    expect([e.status, e.retryable, e.message]).toEqual([429, true, ERRORS.RATE_LIMITED.message]);
    expect(new AppError('NOT_FOUND', 'no cabinet X', { id: 'X' }).toJSON()).toEqual({ code: 'NOT_FOUND', message: 'no cabinet X', details: { id: 'X' } });
  });
});

describe('shopper API error codes', () => {
  it('are all in the catalogue', () => {
    for (const code of ShopperErrorCode.options) expect(Object.keys(ERRORS)).toContain(code);
  });
});
