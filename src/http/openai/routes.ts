import { z } from 'zod';
import { RUN_STATUSES } from '../../domain/openai-evals.js';
import type { Principal } from '../../domain/types.js';
import type { OpenAiEvalServices } from '../../services/openai-evals/index.js';
import { defineRoute, type AnyRouteSpec } from '../route.js';
import { toWireEval, toWireList, toWireOutputItem, toWireRun } from './wire.js';

const EVALS = '/v1/evals';
const EVAL = `${EVALS}/{eval_id}`;
const RUNS = `${EVAL}/runs`;
const RUN = `${RUNS}/{run_id}`;
const ITEMS = `${RUN}/output_items`;

/** The SDK's cursor parameters: `limit` 1..100 (default 20), `after` an id, `order` asc (default) or desc. */
const cursor = {
  after: z.string().min(1).optional(),
  limit: z.coerce.number().int('limit must be an integer').min(1, 'limit must be at least 1').max(100, 'limit must be at most 100').default(20),
  order: z.enum(['asc', 'desc']).default('asc'),
};
const body = z.record(z.string(), z.unknown());

const accountOf = (principal: Principal | undefined): string => principal!.accountId;

export function openAiEvalRoutes(services: OpenAiEvalServices): AnyRouteSpec[] {
  // Read at request time: the routes' specs (and /openapi.json) are built before any service runs.
  return [
    defineRoute({
      method: 'POST', path: EVALS, operationId: 'OpenAiCreateEval', summary: 'OpenAI Evals: create an eval', auth: 'key', body,
      handler: async ({ principal, body: input }) => toWireEval(await services.evals.create(principal!, input)),
    }),
    defineRoute({
      method: 'GET', path: EVALS, operationId: 'OpenAiListEvals', summary: 'OpenAI Evals: list evals', auth: 'key',
      query: z.strictObject({ ...cursor, order_by: z.enum(['created_at', 'updated_at']).default('created_at') }),
      handler: async ({ principal, query }) => {
        const page = await services.evals.list(accountOf(principal), { ...query, orderBy: query.order_by });
        return toWireList(page.items.map(toWireEval), page.hasMore);
      },
    }),
    defineRoute({
      method: 'GET', path: EVAL, operationId: 'OpenAiGetEval', summary: 'OpenAI Evals: retrieve an eval', auth: 'key',
      handler: async ({ principal, params }) => toWireEval(await services.evals.get(accountOf(principal), params['eval_id']!)),
    }),
    defineRoute({
      method: 'POST', path: EVAL, operationId: 'OpenAiUpdateEval', summary: 'OpenAI Evals: update an eval (name, metadata)', auth: 'key',
      body: z.strictObject({ name: z.string().optional(), metadata: z.record(z.string(), z.string()).nullable().optional() }),
      handler: async ({ principal, params, body: input }) => toWireEval(await services.evals.update(accountOf(principal), params['eval_id']!, input)),
    }),
    defineRoute({
      method: 'DELETE', path: EVAL, operationId: 'OpenAiDeleteEval', summary: 'OpenAI Evals: delete an eval, its runs and their jobs', auth: 'key',
      handler: async ({ principal, params }) => {
        const accountId = accountOf(principal);
        await services.evals.delete(accountId, params['eval_id']!, (jobId) => services.runs.deleteRunJob(accountId, jobId));
        return { object: 'eval.deleted', deleted: true, eval_id: params['eval_id']! };
      },
    }),
    defineRoute({
      method: 'POST', path: RUNS, operationId: 'OpenAiCreateRun', summary: 'OpenAI Evals: start a run (a Tally evaluation job)', auth: 'key', body,
      handler: async ({ principal, params, body: input, baseUrl }) => toWireRun(await services.runs.create(principal!, params['eval_id']!, input), baseUrl),
    }),
    defineRoute({
      method: 'GET', path: RUNS, operationId: 'OpenAiListRuns', summary: 'OpenAI Evals: list runs', auth: 'key',
      query: z.strictObject({ ...cursor, status: z.enum(RUN_STATUSES).optional() }),
      handler: async ({ principal, params, query, baseUrl }) => {
        const page = await services.runs.list(accountOf(principal), params['eval_id']!, query);
        return toWireList(page.items.map((v) => toWireRun(v, baseUrl)), page.hasMore);
      },
    }),
    defineRoute({
      method: 'GET', path: RUN, operationId: 'OpenAiGetRun', summary: 'OpenAI Evals: retrieve a run', auth: 'key',
      handler: async ({ principal, params, baseUrl }) => toWireRun(await services.runs.get(accountOf(principal), params['eval_id']!, params['run_id']!), baseUrl),
    }),
    // openai 3.x posts to `.../cancel`; openai 1.x and 2.x post to the run itself.
    ...[`${RUN}/cancel`, RUN].map((path, i) => defineRoute({
      method: 'POST', path, operationId: i === 0 ? 'OpenAiCancelRun' : 'OpenAiCancelRunV2', summary: 'OpenAI Evals: cancel a run', auth: 'key',
      handler: async ({ principal, params, baseUrl }) => toWireRun(await services.runs.cancel(accountOf(principal), params['eval_id']!, params['run_id']!), baseUrl),
    })),
    defineRoute({
      method: 'DELETE', path: RUN, operationId: 'OpenAiDeleteRun', summary: 'OpenAI Evals: delete a run and its job', auth: 'key',
      handler: async ({ principal, params }) => {
        await services.runs.delete(accountOf(principal), params['eval_id']!, params['run_id']!);
        return { object: 'eval.run.deleted', deleted: true, run_id: params['run_id']! };
      },
    }),
    defineRoute({
      method: 'GET', path: ITEMS, operationId: 'OpenAiListOutputItems', summary: 'OpenAI Evals: list a run\'s output items', auth: 'key',
      query: z.strictObject({ ...cursor, status: z.enum(['pass', 'fail']).optional() }),
      handler: async ({ principal, params, query }) => {
        const page = await services.outputItems.list(accountOf(principal), params['eval_id']!, params['run_id']!, query);
        return toWireList(page.items.map(toWireOutputItem), page.hasMore);
      },
    }),
    defineRoute({
      method: 'GET', path: `${ITEMS}/{output_item_id}`, operationId: 'OpenAiGetOutputItem', summary: 'OpenAI Evals: retrieve an output item', auth: 'key',
      handler: async ({ principal, params }) =>
        toWireOutputItem(await services.outputItems.get(accountOf(principal), params['eval_id']!, params['run_id']!, params['output_item_id']!)),
    }),
  ];
}
