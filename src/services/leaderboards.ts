import { notFound } from '../domain/errors.js';
import { isTerminal, runsOf, type JobRecord } from '../domain/jobs.js';
import { standingsOf, type StandingInput } from '../domain/standings.js';
import { assertValidId, generateId } from '../domain/names.js';
import { nowIso } from '../domain/types.js';
import type { LeaderboardRecord, ListRequest, Store } from '../store/index.js';
import type { ComparisonService } from './comparisons.js';

export function createLeaderboardService(store: Store, comparisons?: ComparisonService) {
  const get = async (accountId: string, id: string) => {
    const board = await store.leaderboards.get(accountId, id);
    if (!board) throw notFound(`leaderboard "accounts/${accountId}/leaderboards/${id}" not found`);
    return board;
  };
  return {
    get,
    list: (accountId: string, request: ListRequest) => store.leaderboards.list(accountId, request),
    async create(accountId: string, input: { leaderboardId?: string; displayName?: string; description?: string; source?: Record<string, unknown> }) {
      const id = input.leaderboardId || generateId();
      assertValidId(id, 'leaderboardId');
      const now = nowIso();
      const record: LeaderboardRecord = { accountId, id, displayName: input.displayName || id, description: input.description ?? '', createTime: now, updateTime: now, source: input.source ?? {} };
      await store.leaderboards.create(record);
      return { ...record, jobCount: 0 };
    },
    async delete(accountId: string, id: string) {
      if (!(await store.leaderboards.delete(accountId, id))) throw notFound(`leaderboard "accounts/${accountId}/leaderboards/${id}" not found`);
    },
    async listJobs(accountId: string, id: string, request: ListRequest) {
      await get(accountId, id);
      return store.leaderboards.listJobs(accountId, id, request);
    },
    /**
     * Every job's rank with its CI and, against the leader, a test (paired where the job scored
     * the leader's rows, or joined by `joinKey`), Holm-adjusted across the board.
     */
    async standings(accountId: string, id: string, options: { joinKey?: string | undefined } = {}) {
      await get(accountId, id);
      const jobs: JobRecord[] = [];
      for (let pageToken = ''; ; ) {
        const page = await store.leaderboards.listJobs(accountId, id, { pageSize: 1000, pageToken });
        jobs.push(...page.items);
        if (!(pageToken = page.nextPageToken)) break;
      }
      const leader = jobs[0];
      const inputs: StandingInput[] = [];
      for (const job of jobs) {
        const pairable =
          leader && job !== leader && comparisons && isTerminal(job.state) && isTerminal(leader.state) && runsOf(job) === runsOf(leader) && (options.joinKey || job.inputRowSetId === leader.inputRowSetId);
        const paired = pairable ? (await comparisons.summary(accountId, job.id, { baseline: leader.id, joinKey: options.joinKey })).score : undefined;
        inputs.push({ jobId: job.id, displayName: job.displayName, metrics: isTerminal(job.state) ? job.metrics : {}, paired });
      }
      return standingsOf(inputs);
    },
  };
}

export type LeaderboardService = ReturnType<typeof createLeaderboardService>;
