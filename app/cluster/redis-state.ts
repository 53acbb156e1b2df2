import type { RedisClientType } from 'redis';
import type { JobLeases, NonceClaims, RequestLimiter } from '../../common/shared-state';

/** The cluster's implementations of common/shared-state.ts on its Redis. */

/** `SET NX PX`: one atomic round trip decides which node's handshake used the nonce first. */
export function redisNonces(redis: RedisClientType): NonceClaims {
  return {
    async claim(key, ttlMs) {
      return (await redis.set(`cf:nonce:${key}`, '1', { NX: true, PX: Math.max(1, Math.round(ttlMs)) })) === 'OK';
    },
  };
}

/** A fixed window per key: INCR, and the window's expiry set by the request that opened it. */
export function redisLimiter(redis: RedisClientType, limit: number, windowMs: number): RequestLimiter {
  return {
    async take(key) {
      const k = `cf:rate:${key}`;
      const [count, ttl] = (await redis.multi().incr(k).pTTL(k).exec()) as unknown as [number, number];
      if (ttl < 0) await redis.pExpire(k, windowMs);
      return count <= limit ? { allowed: true } : { allowed: false, retryAfterMs: Math.max(1, ttl < 0 ? windowMs : ttl) };
    },
  };
}

/** `SET NX PX` with this node's id; the holder asking again keeps it (no renewal: a lease covers one run). */
export function redisLeases(redis: RedisClientType, nodeId: string): JobLeases {
  return {
    async lead(job, ttlMs) {
      const key = `cf:lead:${job}`;
      if ((await redis.set(key, nodeId, { NX: true, PX: ttlMs })) === 'OK') return true;
      return (await redis.get(key)) === nodeId;
    },
  };
}
