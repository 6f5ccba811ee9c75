/**
 * A token bucket per API key: `burst` tokens at most, refilled at `perMinute` a minute. Buckets
 * live in this process's memory only, so each server process enforces its own limit (N servers
 * behind a balancer allow up to N times the rate). The clock is injected so tests need no sleeps.
 */
export interface RateLimitOptions {
  /** Sustained requests a minute per key; 0 turns limiting off. */
  perMinute: number;
  /** Requests a key may make at once after being idle. */
  burst: number;
  /** Milliseconds since some fixed origin. @default Date.now */
  now?: () => number;
  /** Buckets kept before full (idle) ones are dropped. @default 10000 */
  maxKeys?: number;
}

export type RateLimitVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes one token from `key`'s bucket, or says how long until one is available. */
  take(key: string): RateLimitVerdict;
}

interface Bucket {
  tokens: number;
  at: number;
}

const ALLOW_ALL: RateLimiter = { take: () => ({ allowed: true }) };

export function createRateLimiter({ perMinute, burst, now = Date.now, maxKeys = 10_000 }: RateLimitOptions): RateLimiter {
  if (perMinute <= 0) return ALLOW_ALL;
  const capacity = Math.max(1, burst);
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, Bucket>();
  const refilled = (bucket: Bucket, time: number): number => Math.min(capacity, bucket.tokens + (time - bucket.at) * perMs);

  // A full bucket is the same as no bucket, so dropping full ones bounds memory without
  // forgiving anyone who is being limited.
  const prune = (time: number): void => {
    for (const [key, bucket] of buckets) if (refilled(bucket, time) >= capacity) buckets.delete(key);
  };

  return {
    take(key) {
      const time = now();
      const bucket = buckets.get(key) ?? { tokens: capacity, at: time };
      const tokens = refilled(bucket, time);
      if (tokens >= 1) {
        if (!buckets.has(key) && buckets.size >= maxKeys) prune(time);
        buckets.set(key, { tokens: tokens - 1, at: time });
        return { allowed: true };
      }
      buckets.set(key, { tokens, at: time });
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
    },
  };
}
