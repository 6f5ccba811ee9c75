import { notFound } from '../domain/errors.js';
import { assertValidId, generateId } from '../domain/names.js';
import { nowIso } from '../domain/types.js';
import type { LeaderboardRecord, ListRequest, Store } from '../store/index.js';

export function createLeaderboardService(store: Store) {
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
  };
}

export type LeaderboardService = ReturnType<typeof createLeaderboardService>;
