import type { Kysely } from 'kysely';

/**
 * A done chunk keeps its rows' results as one value too (repos/chunk-results.ts), so finishing
 * a job reads a value per chunk instead of a row per result. '' for chunks written before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('job_chunks').addColumn('results', 'text', (c) => c.notNull().defaultTo('')).execute();
}
