import type { Kysely } from 'kysely';

/**
 * Rollouts: what an eval-protocol entry point declares about generating (rollout processor,
 * completion_params), found at build time; and a job's rollouts done so far (its progress).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('evaluators').addColumn('declared_rollout', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('evaluation_jobs').addColumn('rollouts_done', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}
