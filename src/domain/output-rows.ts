import type { RowResult } from './jobs.js';

/** What the runner learned about one row: a result, or an error that says why there is none. */
export type ScoredRow =
  | { ok: true; score: number; isScoreValid: boolean; reason: string | null; metrics: Record<string, { score: number; reason: string | null; is_score_valid: boolean }>; ms: number }
  | { ok: false; kind: string; message: string; ms: number };

/**
 * The output dataset's row: the input row plus `evaluation_result` (eval-protocol's
 * EvaluateResult), `evals: {score}` and `eval_details` (what the Fireworks UI reads, reference
 * §3.4). An errored row scores 0 with is_score_valid false, and `error` says what happened.
 * The row object is extended in place: the caller parsed it once to send it to the evaluator.
 */
export function toOutputRow(row: Record<string, unknown>, idx: number, scored: ScoredRow): { text: string; result: RowResult } {
  const evaluation = scored.ok
    ? { score: scored.score, is_score_valid: scored.isScoreValid, reason: scored.reason, metrics: scored.metrics }
    : { score: 0, is_score_valid: false, reason: `${scored.kind}: ${scored.message}`, metrics: {}, error: scored.message };
  row['evaluation_result'] = evaluation;
  row['evals'] = { score: evaluation.score };
  row['eval_details'] = evaluation;
  const metrics: Record<string, number> = {};
  if (scored.ok) for (const [name, metric] of Object.entries(scored.metrics)) if (metric.is_score_valid) metrics[name] = metric.score;
  return {
    text: JSON.stringify(row),
    result: {
      idx,
      score: evaluation.score,
      isScoreValid: scored.ok && scored.isScoreValid,
      errorKind: scored.ok ? '' : scored.kind,
      ms: scored.ms,
      metrics,
    },
  };
}
