import { RateLimiter, TokenSigner } from './tokens';
import { SecretBox } from './sealing';

describe('TokenSigner', () => {
  const key = SecretBox.generateKeyHex();
  const signer = new TokenSigner(key, 'shopper');

  it('round-trips a subject until it expires', () => {
    const t = signer.issue('S1', 2_000);
    expect(signer.verify(t, 1_999)).toBe('S1');
    expect(signer.verify(t, 2_000)).toBeUndefined();
  });

  it('refuses a forged, altered or foreign token', () => {
    const t = signer.issue('S1', 10_000);
    const [payload, mac] = t.split('.');
    const other = Buffer.from(JSON.stringify({ sub: 'S2', exp: 10_000 })).toString('base64url');
    expect(signer.verify(`${other}.${mac}`, 1)).toBeUndefined();
    expect(signer.verify(`${payload}.${mac}x`, 1)).toBeUndefined();
    expect(signer.verify('garbage', 1)).toBeUndefined();
    expect(new TokenSigner(key, 'operator').verify(t, 1)).toBeUndefined();
    expect(new TokenSigner(SecretBox.generateKeyHex(), 'shopper').verify(t, 1)).toBeUndefined();
  });
});

describe('RateLimiter', () => {
  it('allows the limit per window and resets after it', () => {
    const rl = new RateLimiter(3, 1000);
    expect([1, 2, 3, 4].map(() => rl.allow('a', 0))).toEqual([true, true, true, false]);
    expect(rl.allow('b', 10)).toBe(true);
    expect(rl.allow('a', 1000)).toBe(true);
  });
});
