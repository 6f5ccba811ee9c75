import type { Kysely } from 'kysely';

/** The call mode an entry point declares (pointwise, groupwise, all), found at build time. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('evaluators').addColumn('mode', 'text', (c) => c.notNull().defaultTo('')).execute();
}
