import { MODEL_GRADER_TYPES } from '../../domain/graders/criteria.js';
import { outputItemId, runStatusOf, type OpenAiEvalRecord } from '../../domain/openai-evals.js';
import type { OutputItemView, RunView } from '../../services/openai-evals/index.js';

/** An eval as the SDK's `Eval*Response` types define it. */
export function toWireEval(record: OpenAiEvalRecord) {
  const { name, metadata, data_source_config, testing_criteria } = record.eval;
  return { object: 'eval' as const, id: record.id, name, metadata, created_at: record.createdAt, data_source_config, testing_criteria };
}

const NO_ERROR = { code: '', message: '' };

/**
 * The run's token use, from its job's rollout metrics (there once the job has ended): the sampled
 * model of a completions run, else the model its graders called (a model grader's, or the
 * embedding model of its cosine graders). One call an item.
 */
function perModelUsage({ record, job, eval: evalRecord }: RunView) {
  const metrics = job?.metrics ?? {};
  const rollout = job?.settings.rollout;
  if (!rollout || metrics['rollout_prompt_tokens'] === undefined) return [];
  const grader = (evalRecord.eval.testing_criteria as { type: string; model?: string }[]).find((g) => MODEL_GRADER_TYPES.has(g.type));
  const name = record.run.model || grader?.model || rollout.model;
  const prompt = metrics['rollout_prompt_tokens'] ?? 0;
  const completion = metrics['rollout_completion_tokens'] ?? 0;
  return [{ model_name: name, invocation_count: job.progress.rowsTotal, prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, cached_tokens: 0 }];
}

/** A run as the SDK's `Run*Response` types define it; counts are live until the job ends, then kept. */
export function toWireRun(view: RunView, baseUrl: string) {
  const { record, job } = view;
  const status = job ? runStatusOf(job.state) : 'canceled';
  const summary = record.run.summary;
  const graders = view.eval.eval.testing_criteria as { name: string }[];
  const failed = status === 'failed' && job;
  return {
    object: 'eval.run' as const,
    id: record.id,
    eval_id: record.evalId,
    name: record.run.name,
    metadata: record.run.metadata,
    model: record.run.model,
    data_source: record.run.data_source,
    status,
    created_at: record.createdAt,
    error: failed ? { code: job.status.code.toLowerCase(), message: job.status.message } : NO_ERROR,
    report_url: `${baseUrl}/jobs/${record.jobId}`,
    result_counts: summary?.result_counts ?? { total: job?.progress.rowsTotal ?? 0, passed: 0, failed: 0, errored: 0 },
    per_testing_criteria_results: summary?.per_testing_criteria_results ?? graders.map((g) => ({ testing_criteria: g.name, passed: 0, failed: 0 })),
    per_model_usage: perModelUsage(view),
  };
}

type Message = { role?: unknown; content?: unknown };
const asMessage = (m: unknown) => ({ role: String((m as Message)?.role ?? ''), content: typeof (m as Message)?.content === 'string' ? ((m as Message).content as string) : '' });

/** The SDK's Sample: what the rollout step sampled (completions runs), or the item's given sample. */
function sampleOf(view: OutputItemView) {
  const { record } = view.run;
  const errored = view.results.find((r) => !r.valid);
  const rollout = view.rollout;
  const params = (record.run.data_source['sampling_params'] ?? {}) as Record<string, unknown>;
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const usage = (rollout?.['usage'] ?? {}) as Record<string, unknown>;
  const sent = rollout ? (view.messages ?? []).slice(0, rollout['message'] ? -1 : undefined) : [];
  const outputText = typeof view.sample?.['output_text'] === 'string' ? view.sample['output_text'] : undefined;
  const output = rollout ? (rollout['message'] ? [asMessage(rollout['message'])] : []) : outputText === undefined ? [] : [{ role: 'assistant', content: outputText }];
  const error = typeof rollout?.['error'] === 'string' && rollout['error']
    ? { code: 'rollout_error', message: rollout['error'] }
    : errored ? { code: 'grader_error', message: `${errored.name}: ${errored.reason}` } : NO_ERROR;
  return {
    input: sent.map(asMessage), output, error,
    finish_reason: typeof rollout?.['finish_reason'] === 'string' ? rollout['finish_reason'] : '',
    model: record.run.model, seed: num(params['seed']), temperature: num(params['temperature']), top_p: num(params['top_p']),
    max_completion_tokens: num(params['max_completion_tokens']),
    usage: { prompt_tokens: num(usage['prompt_tokens']), completion_tokens: num(usage['completion_tokens']), total_tokens: num(usage['prompt_tokens']) + num(usage['completion_tokens']), cached_tokens: 0 },
  };
}

/** An output item as the SDK's OutputItem*Response types define it. */
export function toWireOutputItem(view: OutputItemView) {
  const { record } = view.run;
  return {
    object: 'eval.run.output_item' as const,
    id: outputItemId(record.id, view.index),
    created_at: record.createdAt,
    eval_id: record.evalId,
    run_id: record.id,
    status: view.status,
    datasource_item_id: view.index,
    datasource_item: view.item,
    results: view.results.map((r) => ({ name: r.name, type: r.type, score: r.score, passed: r.passed, sample: r.sample, reason: r.reason })),
    sample: sampleOf(view),
  };
}

/** OpenAI list objects: `first_id`/`last_id` are null on an empty page. */
export function toWireList<T extends { id: string }>(data: T[], hasMore: boolean) {
  return { object: 'list' as const, data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: hasMore };
}
