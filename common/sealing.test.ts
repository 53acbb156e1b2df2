import { SecretBox } from './sealing';

describe('SecretBox', () => {
  const box = new SecretBox(SecretBox.generateKeyHex());

  it('round-trips a secret bound to its context', () => {
    const s = box.seal('device-secret', 'cabinet:A');
    expect(s.data).not.toContain('device-secret');
    expect(box.open(s, 'cabinet:A')).toBe('device-secret');
  });

  it('refuses another context, a tampered tag or another key', () => {
    const s = box.seal('device-secret', 'cabinet:A');
    expect(() => box.open(s, 'cabinet:B')).toThrow();
    const tag = Buffer.from(s.tag, 'base64');
    tag[0] = (tag[0] ?? 0) ^ 1;
    expect(() => box.open({ ...s, tag: tag.toString('base64') }, 'cabinet:A')).toThrow();
    expect(() => new SecretBox(SecretBox.generateKeyHex()).open(s, 'cabinet:A')).toThrow();
  });

  it('rejects a key of the wrong size', () => {
    expect(() => new SecretBox('abcd')).toThrow(/32-byte/);
  });
});
