import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit.js';

function clock(start = 1_000_000) {
  let time = start;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

describe('rate limiter (token bucket per key)', () => {
  it('allows a burst, then refuses with the seconds until the next token', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 60, burst: 3, now: c.now });
    for (let i = 0; i < 3; i++) expect(limiter.take('k')).toEqual({ allowed: true });
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    c.advance(1000);
    expect(limiter.take('k')).toEqual({ allowed: true });
    expect(limiter.take('k').allowed).toBe(false);
  });

  it('keeps one bucket per key', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 60, burst: 1, now: c.now });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  it('rounds Retry-After up to whole seconds for slow rates', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 2, burst: 1, now: c.now });
    limiter.take('k');
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 30 });
    c.advance(29_500);
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    c.advance(500);
    expect(limiter.take('k').allowed).toBe(true);
  });

  it('refills no further than the burst', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 600, burst: 2, now: c.now });
    c.advance(3_600_000);
    expect(limiter.take('k').allowed).toBe(true);
    expect(limiter.take('k').allowed).toBe(true);
    expect(limiter.take('k').allowed).toBe(false);
  });

  it('is off with perMinute 0', () => {
    const limiter = createRateLimiter({ perMinute: 0, burst: 1 });
    for (let i = 0; i < 1000; i++) expect(limiter.take('k').allowed).toBe(true);
  });

  it('drops only full buckets when over maxKeys, so a limited key stays limited', () => {
    const c = clock();
    const limiter = createRateLimiter({ perMinute: 60, burst: 1, now: c.now, maxKeys: 2 });
    limiter.take('limited');
    expect(limiter.take('limited').allowed).toBe(false);
    for (let i = 0; i < 50; i++) limiter.take(`k${i}`);
    expect(limiter.take('limited').allowed).toBe(false);
    c.advance(1000);
    expect(limiter.take('limited').allowed).toBe(true);
  });
});
