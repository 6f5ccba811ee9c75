import type { ComparisonService } from '../../services/comparisons.js';
import { defineRoute, type AnyRouteSpec } from '../route.js';
import { sendWithRaw } from '../wire/raw-json.js';
import { compareQuery, parseStatuses, toWireComparedRow, toWireComparisonSummary } from '../wire/comparisons.js';

const ITEM = '/v1/accounts/{accountId}/evaluationJobs/{evaluationJobId}';

/** Tally extension: a job against a baseline job, row by row (docs/api.md). */
export function comparisonRoutes(comparisons: ComparisonService): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'GET', path: `${ITEM}:compare`, operationId: 'CompareEvaluationJobs',
      summary: 'Compare a job with a baseline job row by row: counts, paired diff of means with CI and p-value, a paged per-row diff',
      auth: 'account', query: compareQuery,
      handler: async ({ params, query, reply }) => {
        const accountId = params['accountId']!;
        const jobId = params['evaluationJobId']!;
        const page = await comparisons.page(accountId, jobId, {
          baseline: query.baseline ?? '', joinKey: query.joinKey, statuses: parseStatuses(query.status), order: query.orderBy ?? 'diff',
          pageSize: query.pageSize ?? 0, pageToken: query.pageToken, withRows: query.view === 'FULL',
        });
        return sendWithRaw(reply, {
          evaluationJob: `accounts/${accountId}/evaluationJobs/${jobId}`,
          baseline: `accounts/${accountId}/evaluationJobs/${page.baselineId}`,
          joinKey: query.joinKey ?? '',
          summary: toWireComparisonSummary(page.summary),
          rows: page.items.map(toWireComparedRow),
          nextPageToken: page.nextPageToken,
          totalSize: page.totalSize,
        });
      },
    }),
  ];
}
