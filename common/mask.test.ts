import { maskPhone, maskPhonesInText } from './mask';
import { createLogger } from './log';
import { Writable } from 'node:stream';

describe('phone masking', () => {
  it.each([
    ['13812345678', '138****5678'],
    ['+8613812345678', '+86138****5678'],
    ['1234', '****'],
  ])('masks %s as %s', (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
  });

  it('masks numbers inside free text', () => {
    expect(maskPhonesInText('call 13812345678 or +86 13987654321 now')).toBe('call 138****5678 or +86 139****4321 now');
  });

  it('keeps phone numbers and secrets out of log lines', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ level: 'info', destination: sink });
    log.info({ shopper: { phone: '13812345678' }, secret: 'abc123', nested: { deep: { token: 't0k' } } }, 'login from 13912345678');
    const out = lines.join('');
    expect(out).not.toMatch(/13812345678|13912345678|abc123|t0k/);
    expect(out).toContain('138****5678');
    expect(out).toContain('139****5678');
  });
});
