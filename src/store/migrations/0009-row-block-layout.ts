import type { Kysely } from 'kysely';

/**
 * How a row block holds its rows: '' their texts; 'output' a job's output rows as the input row,
 * the evaluation's JSON and its score each (see repos/row-blocks.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('row_blocks').addColumn('layout', 'text', (c) => c.notNull().defaultTo('')).execute();
}
