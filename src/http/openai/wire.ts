import { outputItemId, runStatusOf, type OpenAiEvalRecord } from '../../domain/openai-evals.js';
import type { OutputItemView, RunView } from '../../services/openai-evals/index.js';

/** An eval as the SDK's `Eval*Response` types define it. */
export function toWireEval(record: OpenAiEvalRecord) {
  const { name, metadata, data_source_config, testing_criteria } = record.eval;
  return { object: 'eval' as const, id: record.id, name, metadata, created_at: record.createdAt, data_source_config, testing_criteria };
}

const NO_ERROR = { code: '', message: '' };

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
    per_model_usage: [] as unknown[],
  };
}

/** An output item; `sample` is the item's given sample in the SDK's Sample shape (no model was called). */
export function toWireOutputItem(view: OutputItemView) {
  const { record } = view.run;
  const outputText = typeof view.sample?.['output_text'] === 'string' ? view.sample['output_text'] : undefined;
  const errored = view.results.find((r) => !r.valid);
  return {
    object: 'eval.run.output_item' as const,
    id: outputItemId(record.id, view.index),
    created_at: record.createdAt,
    eval_id: record.evalId,
    run_id: record.id,
    status: view.status,
    datasource_item_id: view.index,
    datasource_item: view.item,
    results: view.results.map((r) => ({ name: r.name, type: r.type, score: r.score, passed: r.passed, sample: null, reason: r.reason })),
    sample: {
      input: [] as unknown[],
      output: outputText === undefined ? [] : [{ role: 'assistant', content: outputText }],
      error: errored ? { code: 'grader_error', message: `${errored.name}: ${errored.reason}` } : NO_ERROR,
      finish_reason: '', model: record.run.model, seed: 0, temperature: 0, top_p: 0, max_completion_tokens: 0,
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cached_tokens: 0 },
    },
  };
}

/** OpenAI list objects: `first_id`/`last_id` are null on an empty page. */
export function toWireList<T extends { id: string }>(data: T[], hasMore: boolean) {
  return { object: 'list' as const, data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: hasMore };
}
