import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Bearer tokens for shoppers: `base64url(payload).base64url(HMAC-SHA256)`, with the subject and an expiry.
 * Stateless, so any node can check them; the key is derived from the service's master key (HKDF), never stored.
 */
export class TokenSigner {
  private readonly key: Buffer;

  constructor(masterKeyHex: string, purpose: string) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(masterKeyHex, 'hex'), Buffer.alloc(0), `cabinet-fleet:${purpose}`, 32));
  }

  issue(subject: string, expiresAt: number): string {
    const payload = Buffer.from(JSON.stringify({ sub: subject, exp: expiresAt })).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The subject, or undefined for a malformed, forged or expired token. */
  verify(token: string, now: number): string | undefined {
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined) return undefined;
    const want = Buffer.from(this.mac(payload));
    const got = Buffer.from(mac);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    try {
      const { sub, exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown; exp?: unknown };
      return typeof sub === 'string' && typeof exp === 'number' && exp > now ? sub : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/** A fixed-window limiter per key (shopper): at most `limit` calls per `windowMs`. */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  allow(key: string, now: number): boolean {
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (this.windows.size > 50_000) this.prune(now);
      this.windows.set(key, { start: now, count: 1 });
      return true;
    }
    w.count++;
    return w.count <= this.limit;
  }

  /** How long until `key`'s window ends and a call is allowed again (0 when it is allowed now). */
  retryAfterMs(key: string, now: number): number {
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs || w.count < this.limit) return 0;
    return this.windowMs - (now - w.start);
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}
