import type { Kysely } from 'kysely';

/** What an eval-protocol entry point declares about generating (rollout processor, completion_params), found at build time. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('evaluators').addColumn('declared_rollout', 'text', (c) => c.notNull().defaultTo('')).execute();
}
