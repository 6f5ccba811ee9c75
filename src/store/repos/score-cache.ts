import type { Kysely } from 'kysely';
import type { ScoreCacheRepo } from '../port.js';
import type { Database } from '../schema.js';

/** Keys per statement: 1,000 keys stay far below both databases' parameter limits. */
const KEYS_PER_STATEMENT = 1000;

export function createScoreCacheRepo(db: Kysely<Database>): ScoreCacheRepo {
  return {
    async lookup(accountId, keys, now) {
      const found = new Map<string, string>();
      for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) {
        const batch = keys.slice(i, i + KEYS_PER_STATEMENT);
        const rows = await db.selectFrom('score_cache').select(['cache_key', 'result']).where('account_id', '=', accountId).where('cache_key', 'in', batch).execute();
        for (const row of rows) found.set(row.cache_key, row.result);
        // What is used stays: eviction drops the least recently used first.
        if (rows.length) await db.updateTable('score_cache').set({ used_time: now }).where('account_id', '=', accountId).where('cache_key', 'in', rows.map((r) => r.cache_key)).execute();
      }
      return found;
    },
    async put(accountId, entries, now) {
      for (let i = 0; i < entries.length; i += KEYS_PER_STATEMENT) {
        const values = entries.slice(i, i + KEYS_PER_STATEMENT).map((e) => ({ account_id: accountId, cache_key: e.key, result: e.result, used_time: now }));
        await db.insertInto('score_cache').values(values).onConflict((oc) => oc.columns(['account_id', 'cache_key']).doUpdateSet((eb) => ({ result: eb.ref('excluded.result'), used_time: eb.ref('excluded.used_time') }))).execute();
      }
    },
    async evict(accountId, maxEntries) {
      // The entry at position maxEntries, newest first (key breaks ties): it and everything older go.
      const boundary = await db
        .selectFrom('score_cache')
        .select(['used_time', 'cache_key'])
        .where('account_id', '=', accountId)
        .orderBy('used_time', 'desc')
        .orderBy('cache_key', 'desc')
        .offset(maxEntries)
        .limit(1)
        .executeTakeFirst();
      if (!boundary) return 0;
      const result = await db
        .deleteFrom('score_cache')
        .where('account_id', '=', accountId)
        .where((eb) => eb.or([eb('used_time', '<', boundary.used_time), eb.and([eb('used_time', '=', boundary.used_time), eb('cache_key', '<=', boundary.cache_key)])]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async count(accountId) {
      const row = await db.selectFrom('score_cache').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async addJobHits(accountId, jobId, hits) {
      if (hits <= 0) return;
      await db.updateTable('evaluation_jobs').set((eb) => ({ rows_cached: eb('rows_cached', '+', hits) })).where('account_id', '=', accountId).where('id', '=', jobId).execute();
    },
  };
}
