import type { Kysely } from 'kysely';
import type { ListFields } from '../../domain/listing.js';
import { alreadyExistsOnConflict } from '../conflicts.js';
import { listPage } from '../listing.js';
import type { LeaderboardRecord, LeaderboardRepo } from '../port.js';
import type { Database, LeaderboardsTable } from '../schema.js';
import { JOB_LIST_FIELDS, jobRecordOf } from './jobs.js';

export const LEADERBOARD_LIST_FIELDS: ListFields = {
  leaderboardId: { column: 'id', type: 'string' },
  displayName: { column: 'display_name', type: 'string' },
  createTime: { column: 'create_time', type: 'timestamp' },
  updateTime: { column: 'update_time', type: 'timestamp' },
};

export function createLeaderboardRepo(db: Kysely<Database>): LeaderboardRepo {
  const jobCounts = async (accountId: string, ids: string[]): Promise<Map<string, number>> => {
    if (ids.length === 0) return new Map();
    const rows = await db
      .selectFrom('leaderboard_jobs')
      .select(['leaderboard_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('account_id', '=', accountId)
      .where('leaderboard_id', 'in', ids)
      .groupBy('leaderboard_id')
      .execute();
    return new Map(rows.map((r) => [r.leaderboard_id, Number(r.n)]));
  };
  return {
    async create(record) {
      await alreadyExistsOnConflict(`leaderboard "${record.id}" already exists`, () =>
        db.insertInto('leaderboards').values({
          account_id: record.accountId, id: record.id, display_name: record.displayName, description: record.description,
          create_time: record.createTime, update_time: record.updateTime, source: JSON.stringify(record.source),
        }).execute(),
      );
    },
    async get(accountId, id) {
      const row = await db.selectFrom('leaderboards').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      return { ...toRecord(row), jobCount: (await jobCounts(accountId, [id])).get(id) ?? 0 };
    },
    async list(accountId, request) {
      const page = await listPage<LeaderboardsTable>(db, { table: 'leaderboards', scope: { account_id: accountId }, idColumn: 'id', fields: LEADERBOARD_LIST_FIELDS, request });
      const counts = await jobCounts(accountId, page.rows.map((r) => r.id));
      return { items: page.rows.map((r) => ({ ...toRecord(r), jobCount: counts.get(r.id) ?? 0 })), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
    },
    async delete(accountId, id) {
      return db.transaction().execute(async (tx) => {
        const result = await tx.deleteFrom('leaderboards').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
        await tx.deleteFrom('leaderboard_jobs').where('account_id', '=', accountId).where('leaderboard_id', '=', id).execute();
        return Number(result.numDeletedRows) > 0;
      });
    },
    async listJobs(accountId, id, request) {
      // A board holds jobs attached by hand, so its job ids are few enough to scope the page.
      const links = await db.selectFrom('leaderboard_jobs').select('job_id').where('account_id', '=', accountId).where('leaderboard_id', '=', id).execute();
      const page = await listPage<Database['evaluation_jobs']>(db, {
        table: 'evaluation_jobs',
        scope: { account_id: accountId, id: links.map((l) => l.job_id) },
        idColumn: 'id',
        fields: JOB_LIST_FIELDS,
        request: { ...request, orderBy: request.orderBy || 'score desc' },
      });
      return { items: page.rows.map(jobRecordOf), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
    },
  };
}

function toRecord(row: LeaderboardsTable): LeaderboardRecord {
  return {
    accountId: row.account_id, id: row.id, displayName: row.display_name, description: row.description,
    createTime: row.create_time, updateTime: row.update_time, source: JSON.parse(row.source) as Record<string, unknown>,
  };
}
