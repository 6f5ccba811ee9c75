/**
 * The chunk runner's two touches of the score cache (domain/score-cache.ts has the rules): one
 * lookup of a prepared chunk's rows before scoring, and one store of what was scored after the
 * chunk's write. The store comes after the chunk's transaction, not in it: a crash between the
 * two loses cache entries (those rows are scored again next time), never output, so the
 * exactly-once write of the chunk stays as it is.
 */
import { cacheFingerprint, cacheKeyOf, decodeCachedScore, encodeCachedScore, usesScoreCache, type CachedScore } from '../domain/score-cache.js';
import type { EvaluatorRecord } from '../domain/evaluators.js';
import type { JobRecord } from '../domain/jobs.js';
import type { ScoredRow } from '../domain/output-rows.js';
import { nowIso } from '../domain/types.js';
import type { Store } from '../store/index.js';

export interface ScoreCacheOptions {
  /** Entries kept per account; the least recently used go first. @default 1000000 */
  maxEntriesPerAccount?: number;
  /** Stores between two eviction passes of an account (a pass counts the account's entries). @default 20 */
  evictEvery?: number;
}

/** A chunk's cached outcomes by row index, and the key of every row (to store new scores under). */
export interface ChunkCache {
  hits: Map<number, CachedScore>;
  keys: Map<number, string>;
}

export async function lookupScores(store: Store, job: JobRecord, evaluator: EvaluatorRecord, input: readonly { idx: number; data: string }[]): Promise<ChunkCache | undefined> {
  if (!usesScoreCache(job, evaluator)) return undefined;
  const fingerprint = cacheFingerprint(job, evaluator);
  const keys = new Map(input.map((row) => [row.idx, cacheKeyOf(fingerprint, row.data)]));
  const found = await store.scoreCache.lookup(job.accountId, [...new Set(keys.values())], nowIso());
  const hits = new Map<number, CachedScore>();
  for (const [idx, key] of keys) {
    const text = found.get(key);
    if (text !== undefined) hits.set(idx, decodeCachedScore(text));
  }
  return { hits, keys };
}

export function createScoreCacheWriter(store: Store, { maxEntriesPerAccount = 1_000_000, evictEvery = 20 }: ScoreCacheOptions = {}) {
  const storesSinceEviction = new Map<string, number>();
  return async function rememberScores(job: JobRecord, cache: ChunkCache, scored: readonly { idx: number; scored: ScoredRow }[]): Promise<void> {
    const entries: { key: string; result: string }[] = [];
    for (const row of scored) {
      const result = encodeCachedScore(row.scored);
      const key = cache.keys.get(row.idx);
      if (result !== undefined && key !== undefined) entries.push({ key, result });
    }
    await store.scoreCache.put(job.accountId, entries, nowIso());
    await store.scoreCache.addJobHits(job.accountId, job.id, cache.hits.size);
    const stores = (storesSinceEviction.get(job.accountId) ?? 0) + 1;
    storesSinceEviction.set(job.accountId, stores % evictEvery);
    if (stores >= evictEvery || entries.length > maxEntriesPerAccount) await store.scoreCache.evict(job.accountId, maxEntriesPerAccount);
  };
}

export type ScoreCacheWriter = ReturnType<typeof createScoreCacheWriter>;
