import { describe, expect, it } from 'vitest';
import { DEFAULT_JOB_SETTINGS, type JobSettings } from './jobs.js';
import { cacheFingerprint, cacheKeyOf, decodeCachedScore, encodeCachedScore, usesScoreCache } from './score-cache.js';

const job = (settings: Partial<JobSettings> = {}) => ({ settings: { ...DEFAULT_JOB_SETTINGS, ...settings } });
const evaluator = { id: 'e', buildDir: '/builds/a', envHash: 'h', mode: 'pointwise' as const };

describe('score cache rules', () => {
  it('is on for pointwise jobs; off with cache: false, for groups and for jobs with a rollout', () => {
    expect(usesScoreCache(job(), evaluator)).toBe(true);
    expect(usesScoreCache(job({ cache: false }), evaluator)).toBe(false);
    expect(usesScoreCache(job(), { mode: 'groupwise' })).toBe(false);
    expect(usesScoreCache(job(), { mode: 'all' })).toBe(false);
    expect(usesScoreCache(job({ rollout: {} as never }), evaluator)).toBe(false);
  });

  it('keys change with the build, the settings, the secrets and the row text, and only with them', () => {
    const base = cacheKeyOf(cacheFingerprint(job(), evaluator), '{"a":1}');
    expect(cacheKeyOf(cacheFingerprint(job({ maxErrorRate: 0.1, chunkRows: 5 }), evaluator), '{"a":1}')).toBe(base);
    for (const other of [
      cacheKeyOf(cacheFingerprint(job(), { ...evaluator, buildDir: '/builds/b' }), '{"a":1}'),
      cacheKeyOf(cacheFingerprint(job(), { ...evaluator, envHash: 'h2' }), '{"a":1}'),
      cacheKeyOf(cacheFingerprint(job({ perRowTimeoutMs: 1 }), evaluator), '{"a":1}'),
      cacheKeyOf(cacheFingerprint(job({ egress: true }), evaluator), '{"a":1}'),
      cacheKeyOf(cacheFingerprint(job(), evaluator), '{"a": 1}'),
      cacheKeyOf(cacheFingerprint(job(), evaluator, 'secrets-digest'), '{"a":1}'),
    ]) expect(other).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{32}$/);
  });

  it('stores results, never errors, and gives them back as taking no time', () => {
    const scored = { ok: true as const, score: 0.5, isScoreValid: true, reason: 'r', metrics: { m: { score: 1, reason: null, is_score_valid: true } }, ms: 12 };
    expect(decodeCachedScore(encodeCachedScore(scored)!)).toEqual({ ...scored, ms: 0 });
    expect(encodeCachedScore({ ok: false, kind: 'timeout', message: 'slow', ms: 60_000 })).toBeUndefined();
  });
});
