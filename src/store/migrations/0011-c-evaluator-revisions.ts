import type { Kysely } from 'kysely';

/**
 * Evaluator revisions: every finished build is a revision (a snapshot of the evaluator with its
 * build), the evaluator names its current one, and a job records the revision it runs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('evaluator_revisions')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('evaluator_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('create_time', 'text', (c) => c.notNull())
    .addColumn('record', 'text', (c) => c.notNull())
    .addColumn('aliases', 'text', (c) => c.notNull().defaultTo('[]'))
    .addPrimaryKeyConstraint('evaluator_revisions_pk', ['account_id', 'evaluator_id', 'id'])
    .execute();
  await db.schema.alterTable('evaluators').addColumn('current_revision_id', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('evaluation_jobs').addColumn('evaluator_revision', 'text', (c) => c.notNull().defaultTo('')).execute();
}
