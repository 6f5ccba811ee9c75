/**
 * Recorded jobs: eval-protocol's persist flow scores rows on the user's machine, uploads them as
 * a dataset, then creates an evaluation job naming that dataset as its output, with evaluator and
 * input dataset `dummy` (reference §3.3: the hosted platform keeps such jobs as experiment
 * records). Nothing runs; the job's metrics come from the scores the rows carry.
 */
import type { RowResult } from './jobs.js';

/**
 * A scored row as the persist flow writes it: `eval_details: {score, is_score_valid, metrics}`
 * (else `evaluation_result`, the EvaluationRow field). A row with neither counts as not scored.
 */
export function recordedRowResult(row: unknown, idx: number): RowResult {
  const record = isObject(row) ? row : {};
  const details = isObject(record['eval_details']) ? record['eval_details'] : isObject(record['evaluation_result']) ? record['evaluation_result'] : undefined;
  const score = typeof details?.['score'] === 'number' ? details['score'] : NaN;
  const isScoreValid = Number.isFinite(score) && details?.['is_score_valid'] !== false;
  return { idx, score: Number.isFinite(score) ? score : 0, isScoreValid, errorKind: '', ms: 0, metrics: metricScores(details?.['metrics']) };
}

function metricScores(value: unknown): Record<string, number> {
  if (!isObject(value)) return {};
  const scores: Record<string, number> = {};
  for (const [name, metric] of Object.entries(value)) {
    if (isObject(metric) && typeof metric['score'] === 'number' && Number.isFinite(metric['score'])) scores[name] = metric['score'];
  }
  return scores;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
