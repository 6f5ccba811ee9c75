import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../port.js';

/** Evaluation jobs, their chunks, per-row results, execution logs and leaderboards. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('evaluation_jobs')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('create_time', 'text', (c) => c.notNull())
    .addColumn('update_time', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('status_code', 'text', (c) => c.notNull())
    .addColumn('status_message', 'text', (c) => c.notNull())
    .addColumn('evaluator_id', 'text', (c) => c.notNull())
    .addColumn('input_dataset_id', 'text', (c) => c.notNull())
    .addColumn('output_dataset_id', 'text', (c) => c.notNull())
    .addColumn('input_row_set_id', 'bigint', (c) => c.notNull())
    .addColumn('output_row_set_id', 'bigint', (c) => c.notNull())
    .addColumn('runnable', 'integer', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('rows_total', 'bigint', (c) => c.notNull())
    .addColumn('rows_done', 'bigint', (c) => c.notNull())
    .addColumn('rows_errored', 'bigint', (c) => c.notNull())
    .addColumn('start_time', 'text', (c) => c.notNull())
    .addColumn('end_time', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('metrics', 'text', (c) => c.notNull())
    .addColumn('output_stats', 'text', (c) => c.notNull())
    .addColumn('leaderboard_ids', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('evaluation_jobs_pk', ['account_id', 'id'])
    .execute();
  await db.schema.createIndex('evaluation_jobs_runnable').on('evaluation_jobs').columns(['runnable', 'state']).execute();

  await db.schema
    .createTable('job_chunks')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('start_idx', 'integer', (c) => c.notNull())
    .addColumn('end_idx', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text', (c) => c.notNull())
    .addColumn('lease_expire_time', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_chunks_pk', ['account_id', 'job_id', 'idx'])
    .execute();
  await db.schema.createIndex('job_chunks_state').on('job_chunks').columns(['state', 'lease_expire_time']).execute();

  // Keyed by the output row set: one per job, so no account or job id is repeated per row.
  const results = db.schema
    .createTable('job_results')
    .addColumn('row_set_id', 'bigint', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('is_valid', 'integer', (c) => c.notNull())
    .addColumn('error_kind', 'text', (c) => c.notNull())
    .addColumn('ms', 'double precision', (c) => c.notNull())
    .addColumn('metrics', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_results_pk', ['row_set_id', 'idx']);
  await (dialect === 'sqlite' ? results.modifyEnd(sql`without rowid`) : results).execute();
  await db.schema.createIndex('job_results_score').on('job_results').columns(['row_set_id', 'score']).execute();

  await db.schema
    .createTable('job_logs')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('time', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('job_logs_job').on('job_logs').columns(['account_id', 'job_id', 'id']).execute();

  await db.schema
    .createTable('leaderboards')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('create_time', 'text', (c) => c.notNull())
    .addColumn('update_time', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('leaderboards_pk', ['account_id', 'id'])
    .execute();

  await db.schema
    .createTable('leaderboard_jobs')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('leaderboard_id', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('leaderboard_jobs_pk', ['account_id', 'leaderboard_id', 'job_id'])
    .execute();
}
