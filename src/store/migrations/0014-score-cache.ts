import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../port.js';

/**
 * The score cache (runner/score-cache.ts): an evaluation per account and key (a hash of the
 * evaluator build, the settings and the row's text), with when it was last used, for eviction;
 * and each job's count of rows answered from it.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  // On SQLite the key is the table's own b-tree (no rowid): a lookup reads one tree, not two.
  await db.schema
    .createTable('score_cache')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('cache_key', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('used_time', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('score_cache_pk', ['account_id', 'cache_key'])
    .$call((q) => (dialect === 'sqlite' ? q.modifyEnd(sql`without rowid`) : q))
    .execute();
  await db.schema.createIndex('score_cache_used').on('score_cache').columns(['account_id', 'used_time', 'cache_key']).execute();
  await db.schema.alterTable('evaluation_jobs').addColumn('rows_cached', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
}
