import { Readable } from 'node:stream';
import { z } from 'zod';
import { applyReadMask } from '../../domain/listing.js';
import type { JobService } from '../../services/jobs.js';
import { defineRoute, type AnyRouteSpec } from '../route.js';
import { getQuery, listQuery } from '../validation.js';
import { toWireList } from '../wire/common.js';
import { CSV_CONTENT_TYPE, listResultsQuery, wantsCsv } from '../wire/csv.js';
import { sendWithRaw } from '../wire/raw-json.js';
import { createJobBody, toJobInput, toWireJob, toWireResult } from '../wire/jobs.js';

const BASE = '/v1/accounts/{accountId}/evaluationJobs';
const ITEM = `${BASE}/{evaluationJobId}`;
const JOB_NAME_FIELDS = ['name', 'evaluator', 'inputDataset', 'outputDataset', 'awsS3Config.credentialsSecret'];

export function jobRoutes(jobs: JobService): AnyRouteSpec[] {
  const wire = (job: Parameters<typeof toWireJob>[0]) => toWireJob(job, jobs.progress(job));
  return [
    defineRoute({
      method: 'POST', path: BASE, operationId: 'CreateEvaluationJob', summary: 'Create an evaluation job', auth: 'account', body: createJobBody,
      bodyNames: [...JOB_NAME_FIELDS.map((f) => `evaluationJob.${f}`), 'evaluationJobId', 'leaderboardIds.[]'],
      handler: async ({ principal, body }) =>
        wire(await jobs.create(principal!, { evaluationJobId: body.evaluationJobId, job: toJobInput(body.evaluationJob), leaderboardIds: body.leaderboardIds ?? [] })),
    }),
    defineRoute({
      method: 'GET', path: BASE, operationId: 'ListEvaluationJobs', summary: 'List evaluation jobs', auth: 'account', query: listQuery,
      handler: async ({ params, query }) => toWireList('evaluationJobs', await jobs.list(params['accountId']!, query), wire, query.readMask),
    }),
    defineRoute({
      method: 'GET', path: ITEM, operationId: 'GetEvaluationJob', summary: 'Get an evaluation job, with its progress', auth: 'account', query: getQuery,
      handler: async ({ params, query }) => {
        // A single job's progress includes the rows being scored now (one more query).
        const job = await jobs.get(params['accountId']!, params['evaluationJobId']!);
        return applyReadMask(toWireJob(job, await jobs.liveProgress(job)), query.readMask);
      },
    }),
    defineRoute({
      method: 'DELETE', path: ITEM, operationId: 'DeleteEvaluationJob', summary: 'Delete an evaluation job (its output dataset stays)', auth: 'account',
      handler: async ({ params }) => {
        await jobs.delete(params['accountId']!, params['evaluationJobId']!);
        return {};
      },
    }),
    defineRoute({
      method: 'POST', path: `${ITEM}:cancel`, operationId: 'CancelEvaluationJob', summary: 'Cancel a job, keeping the rows already scored', auth: 'account',
      body: z.strictObject({}),
      handler: async ({ params }) => wire(await jobs.cancel(params['accountId']!, params['evaluationJobId']!)),
    }),
    defineRoute({
      method: 'GET', path: `${ITEM}:getExecutionLogEndpoint`, operationId: 'GetEvaluationJobExecutionLogEndpoint',
      summary: 'Get a signed URL to the execution log (what the evaluator printed)', auth: 'account',
      handler: async ({ params, baseUrl }) => {
        const uri = await jobs.getExecutionLogEndpoint(params['accountId']!, params['evaluationJobId']!, baseUrl);
        return uri ? { executionLogSignedUri: uri, contentType: 'text/plain', expireTime: new Date(Date.now() + 3600_000).toISOString() } : { executionLogSignedUri: '' };
      },
    }),
    defineRoute({
      method: 'GET', path: `${ITEM}:listResults`, operationId: 'ListEvaluationJobResults',
      summary: 'Page through scored rows (filter on score, isScoreValid, errorKind; order by score); format=csv streams every matching row as CSV', auth: 'account', query: listResultsQuery,
      handler: async ({ params, query, request, reply }) => {
        if (wantsCsv(query.format, request.headers.accept)) {
          const lines = await jobs.resultsCsv(params['accountId']!, params['evaluationJobId']!, query);
          reply.header('content-type', CSV_CONTENT_TYPE).header('content-disposition', `attachment; filename="${params['evaluationJobId']!}-results.csv"`);
          return reply.send(Readable.from(lines));
        }
        const page = await jobs.listResults(params['accountId']!, params['evaluationJobId']!, query);
        const parseRow = /(^|,)\s*row\./.test(query.readMask ?? '');
        return sendWithRaw(reply, toWireList('results', page, (result) => toWireResult(result, parseRow), query.readMask));
      },
    }),
  ];
}
