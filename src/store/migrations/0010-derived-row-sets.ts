import { sql, type Kysely } from 'kysely';

/**
 * A job's output row set keeps only what the job added to each row (layout 'derived' in
 * repos/row-blocks.ts) and reads the rest from its base, the job's input row set, which then
 * stays while an output derives from it. Jobs still running when this is applied go on writing
 * derived blocks: their input row sets still exist (nothing drops the input of a running job).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('row_sets').addColumn('base_row_set_id', 'bigint').execute();
  await db.schema.createIndex('row_sets_base').on('row_sets').column('base_row_set_id').execute();
  await sql`update row_sets set base_row_set_id = (
      select j.input_row_set_id from evaluation_jobs j
      where j.output_row_set_id = row_sets.id
        and j.state not in ('JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'))`.execute(db);
}
