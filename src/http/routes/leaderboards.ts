import { z } from 'zod';
import { applyReadMask } from '../../domain/listing.js';
import { STANDINGS_ALPHA } from '../../domain/standings.js';
import type { JobService } from '../../services/jobs.js';
import type { LeaderboardService } from '../../services/leaderboards.js';
import type { LeaderboardRecord } from '../../store/index.js';
import { defineRoute, type AnyRouteSpec } from '../route.js';
import { getQuery, listQuery, outputOnly } from '../validation.js';
import { toWireList } from '../wire/common.js';
import { toWireJob } from '../wire/jobs.js';
import { standingsQuery, toWireStanding } from '../wire/standings.js';

const BASE = '/v1/accounts/{accountId}/leaderboards';
const ITEM = `${BASE}/{leaderboardId}`;

const createBody = z.strictObject({
  leaderboard: z.strictObject({
    name: outputOnly, createTime: outputOnly, updateTime: outputOnly, jobCount: outputOnly,
    displayName: z.string().max(512).optional(),
    description: z.string().max(8192).optional(),
    source: z.record(z.string(), z.unknown()).optional(),
  }),
  leaderboardId: z.string().optional(),
  parent: z.string().optional(),
});

function toWire(board: LeaderboardRecord & { jobCount: number }): Record<string, unknown> {
  return {
    name: `accounts/${board.accountId}/leaderboards/${board.id}`,
    displayName: board.displayName,
    description: board.description,
    createTime: board.createTime,
    updateTime: board.updateTime,
    jobCount: board.jobCount,
    source: board.source,
  };
}

/** Leaderboards rank their jobs by metrics.score, best first (reference §5). */
export function leaderboardRoutes(boards: LeaderboardService, jobs: JobService): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'POST', path: BASE, operationId: 'CreateLeaderboard', summary: 'Create a leaderboard', auth: 'account', body: createBody, bodyNames: ['leaderboard.name'],
      handler: async ({ params, body }) => toWire(await boards.create(params['accountId']!, { leaderboardId: body.leaderboardId, ...body.leaderboard })),
    }),
    defineRoute({
      method: 'GET', path: BASE, operationId: 'ListLeaderboards', summary: 'List leaderboards', auth: 'account', query: listQuery,
      handler: async ({ params, query }) => toWireList('leaderboards', await boards.list(params['accountId']!, query), toWire, query.readMask),
    }),
    defineRoute({
      method: 'GET', path: ITEM, operationId: 'GetLeaderboard', summary: 'Get a leaderboard (wrapped in {leaderboard})', auth: 'account', query: getQuery,
      handler: async ({ params, query }) => ({ leaderboard: applyReadMask(toWire(await boards.get(params['accountId']!, params['leaderboardId']!)), query.readMask) }),
    }),
    defineRoute({
      method: 'DELETE', path: ITEM, operationId: 'DeleteLeaderboard', summary: 'Delete a leaderboard (its jobs stay)', auth: 'account',
      handler: async ({ params }) => {
        await boards.delete(params['accountId']!, params['leaderboardId']!);
        return {};
      },
    }),
    defineRoute({
      method: 'GET', path: `${ITEM}:listEvaluationJobs`, operationId: 'ListLeaderboardEvaluationJobs',
      summary: 'The jobs of a leaderboard, best metrics.score first', auth: 'account', query: listQuery,
      handler: async ({ params, query }) =>
        toWireList('evaluationJobs', await boards.listJobs(params['accountId']!, params['leaderboardId']!, query), (job) => toWireJob(job, jobs.progress(job)), query.readMask),
    }),
    defineRoute({
      method: 'GET', path: `${ITEM}:getStandings`, operationId: 'GetLeaderboardStandings',
      summary: 'Tally extension: each job\'s rank with its CI, a test against the leader (paired where rows are shared), Holm-adjusted, and a tie marker',
      auth: 'account', query: standingsQuery,
      handler: async ({ params, query }) => {
        const accountId = params['accountId']!;
        const standings = await boards.standings(accountId, params['leaderboardId']!, { joinKey: query.joinKey });
        return { leaderboard: `accounts/${accountId}/leaderboards/${params['leaderboardId']!}`, alpha: STANDINGS_ALPHA, correction: 'holm', standings: standings.map((s) => toWireStanding(accountId, s)) };
      },
    }),
  ];
}
