/**
 * The chunk runner's two touches of the score cache (domain/score-cache.ts has the rules): one
 * lookup of a prepared chunk's rows before scoring (a read), and the chunk's part of the cache
 * (new results, hits marked used, the job's hit count, now and then an eviction) handed to the
 * chunk's own write, so it commits with the chunk or not at all: exactly-once holds for the
 * cache counters too, and on SQLite the cache writes run on the chunk writer thread, never
 * waiting for the write lock on the main thread.
 */
import { cacheFingerprint, cacheKeyOf, decodeCachedScore, encodeCachedScore, usesScoreCache, type CachedScore } from '../domain/score-cache.js';
import type { EvaluatorRecord } from '../domain/evaluators.js';
import type { JobRecord } from '../domain/jobs.js';
import type { ScoredRow } from '../domain/output-rows.js';
import type { ChunkCompletion, Store } from '../store/index.js';

export interface ScoreCacheOptions {
  /** Entries kept per account; the least recently used go first. @default 1000000 */
  maxEntriesPerAccount?: number;
  /** Chunks written between two eviction passes of an account (a pass walks its entries). @default 20 */
  evictEvery?: number;
}

/** A chunk's cached outcomes by row index, and the key of every row (to store new scores under). */
export interface ChunkCache {
  hits: Map<number, CachedScore>;
  keys: Map<number, string>;
  /** Hit keys last marked used over an hour ago: only those are marked again (a write per key). */
  stale: Set<string>;
}

/** How fresh "recently used" must be: eviction order is exact to the hour, and hot rows cost no write. */
const TOUCH_AFTER_MS = 3600_000;

export async function lookupScores(store: Store, job: JobRecord, evaluator: EvaluatorRecord, input: readonly { idx: number; data: string }[]): Promise<ChunkCache | undefined> {
  if (!usesScoreCache(job, evaluator)) return undefined;
  const fingerprint = cacheFingerprint(job, evaluator);
  const keys = new Map(input.map((row) => [row.idx, cacheKeyOf(fingerprint, row.data)]));
  // In key order: neighbouring keys share index pages.
  const found = await store.scoreCache.lookup(job.accountId, [...new Set(keys.values())].sort());
  const hits = new Map<number, CachedScore>();
  const stale = new Set<string>();
  const touchBefore = new Date(Date.now() - TOUCH_AFTER_MS).toISOString();
  for (const [idx, key] of keys) {
    const entry = found.get(key);
    if (entry === undefined) continue;
    hits.set(idx, decodeCachedScore(entry.result));
    if (entry.usedTime < touchBefore) stale.add(key);
  }
  return { hits, keys, stale };
}

/** Makes each chunk's `scoreCache` part of its completion; counts chunks per account for eviction. */
export function createScoreCachePolicy({ maxEntriesPerAccount = 1_000_000, evictEvery = 20 }: ScoreCacheOptions = {}) {
  const chunksSinceEviction = new Map<string, number>();
  return function chunkPart(job: JobRecord, cache: ChunkCache, scored: readonly { idx: number; scored: ScoredRow }[]): ChunkCompletion['scoreCache'] {
    const entries = new Map<string, string>();
    for (const row of scored) {
      const result = encodeCachedScore(row.scored);
      const key = cache.keys.get(row.idx);
      if (result !== undefined && key !== undefined) entries.set(key, result);
    }
    const hitKeys = [...cache.stale];
    const chunks = (chunksSinceEviction.get(job.accountId) ?? 0) + 1;
    chunksSinceEviction.set(job.accountId, chunks % evictEvery);
    const evict = chunks >= evictEvery || entries.size > maxEntriesPerAccount;
    return { entries: [...entries].map(([key, result]) => ({ key, result })), hitKeys, hits: cache.hits.size, evictBeyond: evict ? maxEntriesPerAccount : undefined };
  };
}

export type ScoreCachePolicy = ReturnType<typeof createScoreCachePolicy>;
