import { describe, expect, it } from 'vitest';
import { retryAfterMs } from './client.js';
import { parseRateLimits, RateLimiter } from './limits.js';

describe('rollout limits', () => {
  it('parses operator rate limits by origin and names a bad entry', () => {
    expect(parseRateLimits(' http://127.0.0.1:8080/v1=20, https://api.example.com=2.5 ')).toEqual(new Map([['http://127.0.0.1:8080', 20], ['https://api.example.com', 2.5]]));
    expect(parseRateLimits('')).toEqual(new Map());
    expect(() => parseRateLimits('api.example.com=5')).toThrow(/rolloutRateLimits: "api.example.com=5" is not origin=requestsPerSecond/);
    expect(() => parseRateLimits('http://x=0')).toThrow(/rolloutRateLimits/);
  });
  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    const inFive = retryAfterMs(new Date(Date.now() + 5000).toUTCString())!;
    expect(inFive).toBeGreaterThan(3000);
    expect(inFive).toBeLessThanOrEqual(5000);
  });
  it('starts no more requests a second than its rate after the first second', async () => {
    const limiter = new RateLimiter(10);
    const started = Date.now();
    for (let i = 0; i < 25; i++) await limiter.take();
    // 10 at once, then 15 more at 10 a second: about 1.5 s (generous for a loaded machine).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });
});
