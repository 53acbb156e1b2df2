import { RateLimiter } from './tokens';

/**
 * State that must hold across the nodes of a cluster, with one implementation per deployment: in this
 * process's memory for one node (here), in the cluster's Redis for several (app/cluster/redis-state.ts) (a handshake nonce used on one node must
 * be refused on every other; a shopper's request budget is one budget wherever the requests land).
 */
export interface NonceClaims {
  /** True the first time `key` is claimed within `ttlMs`; false for a replay. */
  claim(key: string, ttlMs: number, now: number): Promise<boolean>;
}

export interface RequestLimiter {
  /** Whether a request under `key` is within its budget now, and if not how long until it is. */
  take(key: string, now: number): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
}

export function memoryNonces(): NonceClaims {
  const seen = new Map<string, number>();
  let lastPrune = 0;
  return {
    async claim(key, ttlMs, now) {
      if (now - lastPrune > 10_000) {
        lastPrune = now;
        for (const [k, exp] of seen) if (exp < now) seen.delete(k);
      }
      if ((seen.get(key) ?? -1) >= now) return false;
      seen.set(key, now + ttlMs);
      return true;
    },
  };
}

export function memoryLimiter(limit: number, windowMs: number): RequestLimiter {
  const l = new RateLimiter(limit, windowMs);
  return {
    async take(key, now) {
      return l.allow(key, now) ? { allowed: true } : { allowed: false, retryAfterMs: Math.max(1, l.retryAfterMs(key, now)) };
    },
  };
}


/**
 * Who runs a once-a-day job: one node of a cluster holds the job's lease for a while; when it dies or fails,
 * the lease runs out and the next node to ask takes it (the jobs themselves are idempotent per day).
 */
export interface JobLeases {
  /** True when this node holds `job`'s lease now (taken, or already its own); false when another node does. */
  lead(job: string, ttlMs: number): Promise<boolean>;
}

/** One node: it always leads. */
export const soleLeader: JobLeases = { lead: async () => true };
