import { invalidArgument, notFound } from '../../domain/errors.js';
import type { Grader } from '../../domain/graders/criteria.js';
import { MODEL_GRADER_TYPES, passes } from '../../domain/graders/criteria.js';
import { outputItemIndex, type CursorRequest } from '../../domain/openai-evals.js';
import type { Store } from '../../store/index.js';
import type { RunService, RunView } from './runs.js';
import { itemOutcome } from './summary.js';

export interface GraderResult {
  name: string;
  type: string;
  score: number;
  passed: boolean;
  valid: boolean;
  reason: string;
  /** A model grader's call: the prompt sent and the answer (the SDK's free-form `sample`). */
  sample: Record<string, unknown> | null;
}

export interface OutputItemView {
  run: RunView;
  index: number;
  item: Record<string, unknown>;
  sample: Record<string, unknown> | undefined;
  /** A completions run's sampling: the messages sent and what the rollout step recorded. */
  messages: unknown[] | undefined;
  rollout: Record<string, unknown> | undefined;
  status: 'pass' | 'fail' | 'error';
  results: GraderResult[];
}

type Metric = { score?: number; reason?: string | null; is_score_valid?: boolean };

function itemOf(run: RunView, index: number, data: string, result: { isScoreValid: boolean; metrics: Record<string, number> }): OutputItemView {
  const row = JSON.parse(data) as { item?: Record<string, unknown>; sample?: Record<string, unknown>; messages?: unknown[]; rollout?: Record<string, unknown>; tally_rollout?: string; evaluation_result?: { reason?: string | null; metrics?: Record<string, Metric> } };
  const graders = run.eval.eval.testing_criteria as Grader[];
  const metrics = row.evaluation_result?.metrics ?? {};
  // In a run with a model grader (or cosine graders) the rollout step called the grader's model (or
  // the embeddings endpoint), not a sampled model.
  const judged = row.tally_rollout === 'grader' || row.tally_rollout === 'embeddings';
  const results = graders.map((g): GraderResult => {
    const metric = metrics[g.name] ?? {};
    const score = typeof metric.score === 'number' ? metric.score : 0;
    // Each grader's own validity: one grader's error leaves the others' results standing.
    const valid = g.name in metrics ? metric.is_score_valid !== false : result.isScoreValid;
    const sample = row.tally_rollout === 'grader' && MODEL_GRADER_TYPES.has(g.type)
      ? { input: row.messages ?? [], output: row.rollout?.['message'] ? [row.rollout['message']] : [], usage: row.rollout?.['usage'] ?? null, error: row.rollout?.['error'] ?? null }
      : null;
    return { name: g.name, type: g.type, score, valid, passed: valid && passes(g, score), reason: metric.reason ?? row.evaluation_result?.reason ?? '', sample };
  });
  return { run, index, item: row.item ?? {}, sample: row.sample, messages: judged ? undefined : row.messages, rollout: judged ? undefined : row.rollout, status: itemOutcome(result, graders), results };
}

/** A run's output items: the rows of its job's output, in index order, each with its graders' results. */
export function createOutputItemService(store: Store, runs: RunService) {
  return {
    async get(accountId: string, evalId: string, runId: string, outputItemId: string): Promise<OutputItemView> {
      const run = await runs.get(accountId, evalId, runId);
      const index = outputItemIndex(runId, outputItemId);
      const page = index === undefined || !run.job ? undefined : await store.jobs.listResults(run.job.outputRowSetId, { filter: `index = ${index}`, pageSize: 1 });
      const found = page?.items[0];
      if (!found) throw notFound(`output_item_id: output item "${outputItemId}" of run "${runId}" not found`);
      return itemOf(run, found.idx, found.data, found);
    },

    /** `status` filters on the item's outcome, so pages are filled by reading on until `limit` match. */
    async list(accountId: string, evalId: string, runId: string, request: CursorRequest & { status?: 'pass' | 'fail' }) {
      const run = await runs.get(accountId, evalId, runId);
      let after = request.after === undefined ? undefined : outputItemIndex(runId, request.after);
      if (request.after !== undefined && after === undefined) throw invalidArgument(`after: "${request.after}" is not an output item of run "${runId}"`);
      const items: OutputItemView[] = [];
      if (!run.job?.outputRowSetId) return { items, hasMore: false };
      const desc = request.order === 'desc';
      for (;;) {
        const filter = after === undefined ? undefined : `index ${desc ? '<' : '>'} ${after}`;
        const page = await store.jobs.listResults(run.job.outputRowSetId, { filter, orderBy: desc ? 'index desc' : 'index', pageSize: 200 });
        for (const row of page.items) {
          after = row.idx;
          const item = itemOf(run, row.idx, row.data, row);
          if (request.status && item.status !== request.status) continue;
          if (items.length === request.limit) return { items, hasMore: true };
          items.push(item);
        }
        if (!page.nextPageToken) return { items, hasMore: false };
      }
    },
  };
}

export type OutputItemService = ReturnType<typeof createOutputItemService>;
