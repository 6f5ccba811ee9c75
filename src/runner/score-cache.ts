/**
 * The chunk runner's two touches of the score cache (domain/score-cache.ts has the rules): one
 * lookup of a prepared chunk's rows before scoring (a read), and the chunk's part of the cache
 * (new results, hits marked used, the job's hit count, now and then an eviction) handed to the
 * chunk's own write, so it commits with the chunk or not at all: exactly-once holds for the
 * cache counters too, and on SQLite the cache writes run on the chunk writer thread, never
 * waiting for the write lock on the main thread.
 */
import { createHash } from 'node:crypto';
import { cacheFingerprint, cacheKeyOf, decodeCachedScore, encodeCachedScore, usesScoreCache, type CachedScore } from '../domain/score-cache.js';
import type { EvaluatorRecord } from '../domain/evaluators.js';
import type { JobRecord } from '../domain/jobs.js';
import type { ScoredRow } from '../domain/output-rows.js';
import type { ChunkCompletion, Store } from '../store/index.js';
import type { SecretEnv } from '../services/secrets.js';

export interface ScoreCacheOptions {
  /** Entries kept per account; the least recently used go first. @default 1000000 */
  maxEntriesPerAccount?: number;
  /** Chunks written between two eviction passes of an account (a pass walks its entries). @default 20 */
  evictEvery?: number;
  /**
   * Rows the evaluator scored faster than this (ms) are not stored: storing and looking up a row
   * costs more than scoring it again (a trivial evaluator's first run was 3.4x slower with every
   * row cached). A job whose rows are all that cheap, and that found no hit, stops looking up.
   * @default 1
   */
  minRowMs?: number;
  /** The account's secrets, as its evaluators get them: a changed secret misses the cache. */
  secretEnv?: SecretEnv;
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

export async function lookupScores(
  store: Store,
  job: JobRecord,
  evaluator: EvaluatorRecord,
  input: readonly { idx: number; data: string }[],
  policy?: ScoreCachePolicy,
): Promise<ChunkCache | undefined> {
  if (!usesScoreCache(job, evaluator) || policy?.looksUp(job) === false) return undefined;
  const fingerprint = cacheFingerprint(job, evaluator, policy ? await policy.environmentDigest(job.accountId) : '');
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

export interface ScoreCachePolicy {
  /** A digest of the environment an account's evaluators get (its secrets), part of every key. */
  environmentDigest(accountId: string): Promise<string>;
  /** False once this worker saw the job's rows were too cheap to cache and none was a hit. */
  looksUp(job: JobRecord): boolean;
  /** The chunk's part of the cache, for its completion; counts chunks per account for eviction. */
  chunkPart(job: JobRecord, cache: ChunkCache, scored: readonly { idx: number; scored: ScoredRow }[]): ChunkCompletion['scoreCache'];
}

/** Jobs remembered as too cheap to cache; past this many the oldest are forgotten (and looked up again). */
const MAX_CHEAP_JOBS = 10_000;

/** A job id is unique only in its account, and a deleted job's id can be taken again: not one of them is another. */
const cheapJobKey = (job: JobRecord): string => `${job.accountId}\n${job.id}\n${job.createTime}`;

export function createScoreCachePolicy({ maxEntriesPerAccount = 1_000_000, evictEvery = 20, minRowMs = 1, secretEnv }: ScoreCacheOptions = {}): ScoreCachePolicy {
  const chunksSinceEviction = new Map<string, number>();
  const cheapJobs = new Set<string>();
  return {
    async environmentDigest(accountId) {
      const secrets = secretEnv ? await secretEnv(accountId) : {};
      return createHash('sha256').update(JSON.stringify(Object.entries(secrets).sort())).digest('hex');
    },
    looksUp: (job) => !cheapJobs.has(cheapJobKey(job)),
    chunkPart(job, cache, scored) {
      const entries = new Map<string, string>();
      for (const row of scored) {
        const result = row.scored.ms >= minRowMs ? encodeCachedScore(row.scored) : undefined;
        const key = cache.keys.get(row.idx);
        if (result !== undefined && key !== undefined) entries.set(key, result);
      }
      if (cache.hits.size === 0 && scored.length > 0 && scored.every((row) => row.scored.ms < minRowMs)) {
        if (cheapJobs.size >= MAX_CHEAP_JOBS) cheapJobs.delete(cheapJobs.values().next().value as string);
        cheapJobs.add(cheapJobKey(job));
      }
      const hitKeys = [...cache.stale];
      const chunks = (chunksSinceEviction.get(job.accountId) ?? 0) + 1;
      chunksSinceEviction.set(job.accountId, chunks % evictEvery);
      const evict = chunks >= evictEvery || entries.size > maxEntriesPerAccount;
      return { entries: [...entries].map(([key, result]) => ({ key, result })), hitKeys, hits: cache.hits.size, evictBeyond: evict ? maxEntriesPerAccount : undefined };
    },
  };
}

