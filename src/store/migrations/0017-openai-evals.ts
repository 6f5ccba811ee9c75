import type { Kysely } from 'kysely';
import type { Dialect } from '../port.js';

/**
 * The OpenAI Evals face (docs/openai-evals.md): an eval and its runs are metadata over Tally's own
 * evaluators, datasets and jobs. Each keeps its wire document as JSON (`body`), with the columns
 * that listing and lookups need beside it. Times are Unix seconds, as the OpenAI API gives them.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('openai_evals')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('evaluator_id', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('openai_evals_pk', ['account_id', 'id'])
    .execute();
  await db.schema
    .createTable('openai_eval_runs')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('eval_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('openai_eval_runs_pk', ['account_id', 'id'])
    .execute();
  await db.schema.createIndex('openai_eval_runs_by_eval').on('openai_eval_runs').columns(['account_id', 'eval_id', 'created_at']).execute();
}
