import type { Kysely } from 'kysely';

/**
 * Results are written a row at a time, by the million, and sorted by score a page at a time: the
 * score index cost a third of every result's insert, and a sorted page without it costs a scan
 * of the job's results (about 150 ms at 1,000,000 rows on SQLite; a bounded sort with LIMIT).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('job_results_score').ifExists().execute();
}
