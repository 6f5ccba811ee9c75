import type { Kysely, Transaction } from 'kysely';
import type { ChunkCompletion, ScoreCacheRepo } from '../port.js';
import type { Database } from '../schema.js';

/** Keys per statement: 1,000 keys stay far below both databases' parameter limits. */
const KEYS_PER_STATEMENT = 1000;

/** Reads only: the writes ride on the chunk's own transaction (writeScoreCache). */
export function createScoreCacheRepo(db: Kysely<Database>): ScoreCacheRepo {
  return {
    async lookup(accountId, keys) {
      const found = new Map<string, { result: string; usedTime: string }>();
      for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) {
        const batch = keys.slice(i, i + KEYS_PER_STATEMENT);
        const rows = await db.selectFrom('score_cache').select(['cache_key', 'result', 'used_time']).where('account_id', '=', accountId).where('cache_key', 'in', batch).execute();
        for (const row of rows) found.set(row.cache_key, { result: row.result, usedTime: row.used_time });
      }
      return found;
    },
    async count(accountId) {
      const row = await db.selectFrom('score_cache').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

/**
 * A done chunk's part of the score cache, in the chunk's transaction (repos/jobs.ts; the SQLite
 * chunk writer runs the same statements): the new entries, the hits marked used, the job's hit
 * count, and on some chunks the eviction of the least recently used beyond the bound.
 */
export async function writeScoreCache(tx: Transaction<Database>, lease: { accountId: string; jobId: string }, cache: NonNullable<ChunkCompletion['scoreCache']>, now: string): Promise<void> {
  const accountId = lease.accountId;
  for (let i = 0; i < cache.entries.length; i += KEYS_PER_STATEMENT) {
    const values = cache.entries.slice(i, i + KEYS_PER_STATEMENT).map((e) => ({ account_id: accountId, cache_key: e.key, result: e.result, used_time: now }));
    await tx.insertInto('score_cache').values(values).onConflict((oc) => oc.columns(['account_id', 'cache_key']).doUpdateSet((eb) => ({ result: eb.ref('excluded.result'), used_time: eb.ref('excluded.used_time') }))).execute();
  }
  for (let i = 0; i < cache.hitKeys.length; i += KEYS_PER_STATEMENT) {
    await tx.updateTable('score_cache').set({ used_time: now }).where('account_id', '=', accountId).where('cache_key', 'in', cache.hitKeys.slice(i, i + KEYS_PER_STATEMENT)).execute();
  }
  if (cache.hits > 0) await tx.updateTable('evaluation_jobs').set((eb) => ({ rows_cached: eb('rows_cached', '+', cache.hits) })).where('account_id', '=', accountId).where('id', '=', lease.jobId).execute();
  if (cache.evictBeyond !== undefined) await evict(tx, accountId, cache.evictBeyond);
}

/** Drops the entries past the `maxEntries` most recently used (by key among those used at once). */
async function evict(tx: Transaction<Database>, accountId: string, maxEntries: number): Promise<void> {
  const boundary = await tx
    .selectFrom('score_cache')
    .select(['used_time', 'cache_key'])
    .where('account_id', '=', accountId)
    .orderBy('used_time', 'desc')
    .orderBy('cache_key', 'desc')
    .offset(maxEntries)
    .limit(1)
    .executeTakeFirst();
  if (!boundary) return;
  await tx
    .deleteFrom('score_cache')
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('used_time', '<', boundary.used_time), eb.and([eb('used_time', '=', boundary.used_time), eb('cache_key', '<=', boundary.cache_key)])]))
    .execute();
}
