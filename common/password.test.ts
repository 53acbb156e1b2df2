import { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword } from './password';

describe('password hashing', () => {
  it('uses scrypt with N ≥ 2^15 and a per-user salt by default', async () => {
    expect(DEFAULT_SCRYPT.N).toBeGreaterThanOrEqual(2 ** 15);
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.toBe(b); // different salts
    expect(a).not.toContain('correct');
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const h = await hashPassword('s3cret-passphrase');
    await expect(verifyPassword('s3cret-passphrase', h)).resolves.toBe(true);
    await expect(verifyPassword('s3cret-passphrasE', h)).resolves.toBe(false);
    await expect(verifyPassword('', h)).resolves.toBe(false);
  });

  it('refuses malformed or tampered hashes instead of throwing', async () => {
    const h = await hashPassword('another passphrase', { N: 1024, r: 8, p: 1 });
    const parts = h.split('$');
    await expect(verifyPassword('another passphrase', 'plain')).resolves.toBe(false);
    await expect(verifyPassword('another passphrase', ['scrypt', '1000', ...parts.slice(2)].join('$'))).resolves.toBe(false); // N not a power of 2
    await expect(verifyPassword('another passphrase', [...parts.slice(0, 5), 'AAAA'].join('$'))).resolves.toBe(false);
    await expect(verifyPassword('another passphrase', ['scrypt', String(2 ** 24), ...parts.slice(2)].join('$'))).resolves.toBe(false); // cost bomb refused
  });

  it('asks for a rehash when the stored cost is below the current one', async () => {
    const weak = await hashPassword('weak-cost-password', { N: 1024, r: 8, p: 1 });
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(await hashPassword('weak-cost-password'))).toBe(false);
    await expect(verifyPassword('weak-cost-password', weak)).resolves.toBe(true);
  });
});
