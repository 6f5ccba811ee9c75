import type { Kysely } from 'kysely';
import type { CursorPage, CursorRequest, OpenAiEvalRecord, OpenAiRunRecord } from '../../domain/openai-evals.js';
import type { OpenAiEvalRepo } from '../port.js';
import type { Database, OpenAiEvalRunsTable, OpenAiEvalsTable } from '../schema.js';

type Table = 'openai_evals' | 'openai_eval_runs';

/**
 * Cursor pages as the OpenAI API pages: `after` names the last item seen, the order is by
 * creation time (ties by id), and one row more than asked tells whether there are more.
 */
async function cursorPage<T extends OpenAiEvalsTable | OpenAiEvalRunsTable>(
  db: Kysely<Database>,
  table: Table,
  scope: { accountId: string; evalId?: string; jobIds?: string[] },
  request: CursorRequest & { orderColumn?: 'created_at' | 'updated_at' },
): Promise<CursorPage<T>> {
  const column = request.orderColumn ?? 'created_at';
  const desc = request.order === 'desc';
  let query = db.selectFrom(table as 'openai_evals').selectAll().where('account_id', '=', scope.accountId);
  if (scope.evalId !== undefined) query = query.where('eval_id' as 'id', '=', scope.evalId);
  if (scope.jobIds !== undefined) query = query.where('job_id' as 'id', 'in', scope.jobIds.length ? scope.jobIds : ['']);
  if (request.after) {
    const anchor = await db.selectFrom(table as 'openai_evals').selectAll().where('account_id', '=', scope.accountId).where('id', '=', request.after).executeTakeFirst();
    if (!anchor) return { items: [], hasMore: false, afterFound: false };
    const at = Number(anchor[column]);
    query = query.where((eb) =>
      eb.or([eb(column, desc ? '<' : '>', at), eb.and([eb(column, '=', at), eb('id', desc ? '<' : '>', request.after!)])]),
    );
  }
  const rows = await query.orderBy(column, desc ? 'desc' : 'asc').orderBy('id', desc ? 'desc' : 'asc').limit(request.limit + 1).execute();
  return { items: rows.slice(0, request.limit) as unknown as T[], hasMore: rows.length > request.limit, afterFound: true };
}

export function createOpenAiEvalRepo(db: Kysely<Database>): OpenAiEvalRepo {
  return {
    async createEval(record) {
      await db.insertInto('openai_evals').values(evalRow(record)).execute();
    },
    async getEval(accountId, id) {
      const row = await db.selectFrom('openai_evals').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return row && evalRecordOf(row);
    },
    async listEvals(accountId, request) {
      const page = await cursorPage<OpenAiEvalsTable>(db, 'openai_evals', { accountId }, request);
      return { ...page, items: page.items.map(evalRecordOf) };
    },
    async updateEval(record) {
      await db.updateTable('openai_evals').set({ body: JSON.stringify(record.eval), updated_at: record.updatedAt })
        .where('account_id', '=', record.accountId).where('id', '=', record.id).execute();
    },
    async deleteEval(accountId, id) {
      return db.transaction().execute(async (tx) => {
        const runs = await tx.selectFrom('openai_eval_runs').select('job_id').where('account_id', '=', accountId).where('eval_id', '=', id).execute();
        const result = await tx.deleteFrom('openai_evals').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
        await tx.deleteFrom('openai_eval_runs').where('account_id', '=', accountId).where('eval_id', '=', id).execute();
        return Number(result.numDeletedRows) > 0 ? { jobIds: runs.map((r) => r.job_id) } : undefined;
      });
    },
    async createRun(record) {
      await db.insertInto('openai_eval_runs').values(runRow(record)).execute();
    },
    async getRun(accountId, evalId, id) {
      const row = await db.selectFrom('openai_eval_runs').selectAll().where('account_id', '=', accountId).where('eval_id', '=', evalId).where('id', '=', id).executeTakeFirst();
      return row && runRecordOf(row);
    },
    async listRuns(accountId, evalId, request) {
      const jobIds = request.jobStates === undefined ? undefined : await jobsIn(db, accountId, evalId, request.jobStates);
      const page = await cursorPage<OpenAiEvalRunsTable>(db, 'openai_eval_runs', { accountId, evalId, jobIds }, request);
      return { ...page, items: page.items.map(runRecordOf) };
    },
    async updateRun(record) {
      await db.updateTable('openai_eval_runs').set({ body: JSON.stringify(record.run) })
        .where('account_id', '=', record.accountId).where('id', '=', record.id).execute();
    },
    async deleteRun(accountId, evalId, id) {
      const result = await db.deleteFrom('openai_eval_runs').where('account_id', '=', accountId).where('eval_id', '=', evalId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

/** The jobs of an eval's runs that are in one of `states` (the run list's `status` filter). */
async function jobsIn(db: Kysely<Database>, accountId: string, evalId: string, states: readonly string[]): Promise<string[]> {
  const rows = await db.selectFrom('openai_eval_runs as r')
    .innerJoin('evaluation_jobs as j', (join) => join.onRef('j.account_id', '=', 'r.account_id').onRef('j.id', '=', 'r.job_id'))
    .select('r.job_id').where('r.account_id', '=', accountId).where('r.eval_id', '=', evalId).where('j.state', 'in', states as string[])
    .execute();
  return rows.map((r) => r.job_id);
}

function evalRow(record: OpenAiEvalRecord): OpenAiEvalsTable {
  return { account_id: record.accountId, id: record.id, created_at: record.createdAt, updated_at: record.updatedAt, evaluator_id: record.evaluatorId, body: JSON.stringify(record.eval) };
}

function evalRecordOf(row: OpenAiEvalsTable): OpenAiEvalRecord {
  return { accountId: row.account_id, id: row.id, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at), evaluatorId: row.evaluator_id, eval: JSON.parse(row.body) as OpenAiEvalRecord['eval'] };
}

function runRow(record: OpenAiRunRecord): OpenAiEvalRunsTable {
  return { account_id: record.accountId, id: record.id, eval_id: record.evalId, created_at: record.createdAt, job_id: record.jobId, body: JSON.stringify(record.run) };
}

function runRecordOf(row: OpenAiEvalRunsTable): OpenAiRunRecord {
  return { accountId: row.account_id, id: row.id, evalId: row.eval_id, createdAt: Number(row.created_at), jobId: row.job_id, run: JSON.parse(row.body) as OpenAiRunRecord['run'] };
}
