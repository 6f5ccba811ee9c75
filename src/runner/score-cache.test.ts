import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../domain/jobs.js';
import type { ScoredRow } from '../domain/output-rows.js';
import { createScoreCachePolicy, type ChunkCache } from './score-cache.js';

const job = { id: 'j1', accountId: 'acme', createTime: '2026-12-01T00:00:00.000Z' } as JobRecord;
const scored = (idx: number, ms: number): { idx: number; scored: ScoredRow } => ({
  idx,
  scored: { ok: true, score: 1, isScoreValid: true, reason: null, metrics: {}, ms },
});
const cacheOf = (idxs: number[], hits = 0): ChunkCache => ({
  keys: new Map(idxs.map((idx) => [idx, `key${idx}`])),
  hits: new Map(Array.from({ length: hits }, (_, i) => [1000 + i, scored(1000 + i, 0).scored as never])),
  stale: new Set(),
});

describe('score cache policy', () => {
  it('stores rows at least minRowMs costly, and keeps looking up for such a job', () => {
    const policy = createScoreCachePolicy({ minRowMs: 1 });
    const part = policy.chunkPart(job, cacheOf([1, 2, 3]), [scored(1, 5), scored(2, 0.2), scored(3, 1)]);
    expect(part?.entries.map((e) => e.key)).toEqual(['key1', 'key3']);
    expect(policy.looksUp(job)).toBe(true);
  });

  it('stops looking up for a job whose rows are all cheap and that found no hit', () => {
    const policy = createScoreCachePolicy({ minRowMs: 1 });
    const part = policy.chunkPart(job, cacheOf([1, 2]), [scored(1, 0.01), scored(2, 0.3)]);
    expect(part?.entries).toEqual([]);
    expect(policy.looksUp(job)).toBe(false);
    expect(policy.looksUp({ ...job, id: 'other-job' })).toBe(true);
    // The same id in another account, or a job re-created under a deleted one's id, is another job.
    expect(policy.looksUp({ ...job, accountId: 'other-account' })).toBe(true);
    expect(policy.looksUp({ ...job, createTime: '2026-12-02T00:00:00.000Z' })).toBe(true);
  });

  it('keeps looking up for a cheap job that found hits (a re-run answered from the cache)', () => {
    const policy = createScoreCachePolicy({ minRowMs: 1 });
    policy.chunkPart(job, cacheOf([1], 3), [scored(1, 0.01)]);
    expect(policy.looksUp(job)).toBe(true);
  });

  it('caches every result with minRowMs 0', () => {
    const policy = createScoreCachePolicy({ minRowMs: 0 });
    const part = policy.chunkPart(job, cacheOf([1, 2]), [scored(1, 0), scored(2, 0.01)]);
    expect(part?.entries).toHaveLength(2);
  });
});
