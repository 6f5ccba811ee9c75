import type { RowResult } from './jobs.js';

/** What the runner learned about one row: a result, or an error that says why there is none. */
export type ScoredRow =
  | { ok: true; score: number; isScoreValid: boolean; reason: string | null; metrics: Record<string, { score: number; reason: string | null; is_score_valid: boolean }>; ms: number }
  | { ok: false; kind: string; message: string; ms: number };

type Evaluation = { score: number; is_score_valid: boolean; reason: string | null; metrics: object; error?: string };

/**
 * The output dataset's row: the input row plus `evaluation_result` (eval-protocol's
 * EvaluateResult), `evals: {score}` and `eval_details` (what the Fireworks UI reads, reference
 * §3.4). An errored row scores 0 with is_score_valid false, and `error` says what happened.
 * The row object is extended in place: the caller parsed it once to send it to the evaluator.
 */
export function toOutputRow(row: Record<string, unknown>, idx: number, scored: ScoredRow): { text: string; result: RowResult } {
  const evaluation = evaluationOf(scored);
  row['evaluation_result'] = evaluation;
  row['evals'] = { score: evaluation.score };
  row['eval_details'] = evaluation;
  return { text: JSON.stringify(row), result: rowResult(idx, scored, evaluation) };
}

/**
 * An output row as the runner hands it to the store: its text, or the stored input row with the
 * evaluation's JSON and its score, to be spliced into it (spliceOutputKeys). The store keeps the
 * parts apart (the evaluation is in the row twice) and splices them when the row is read.
 */
export type OutputRow = { idx: number; text: string } | { idx: number; input: string; evaluation: string; score: string };

/**
 * The same output row built from the stored text of the input row, which then is never parsed:
 * the three keys are appended before its closing brace. When the text may already hold one of
 * them (or spells a key with \u escapes of ASCII letters, which could hide one), it is parsed
 * and rebuilt as above so the new values replace the old ones.
 */
export function toOutputRowFromText(stored: string, idx: number, scored: ScoredRow): { row: OutputRow; result: RowResult } {
  if (MAY_HOLD_OUTPUT_KEYS.test(stored)) {
    const { text, result } = toOutputRow(JSON.parse(stored) as Record<string, unknown>, idx, scored);
    return { row: { idx, text }, result };
  }
  const evaluation = evaluationOf(scored);
  const [evaluationText, scoreText] = evaluationTexts(scored, evaluation);
  return { row: { idx, input: stored, evaluation: evaluationText, score: scoreText }, result: rowResult(idx, scored, evaluation) };
}

/**
 * The texts of the commonest evaluations (valid scores without reasons, the one-criterion kind
 * included) are made once per score and shared: most evaluators give a few scores (pass or
 * fail, a few grades), and the store keeps each distinct text of a block once, which a shared
 * string finds without hashing it again.
 */
const PLAIN_EVALUATIONS = new Map<string, [string, string]>();
const MAX_PLAIN_EVALUATIONS = 1024;

function evaluationTexts(scored: ScoredRow, evaluation: Evaluation): [string, string] {
  const key = plainKey(scored);
  const known = key === undefined ? undefined : PLAIN_EVALUATIONS.get(key);
  if (known) return known;
  const texts: [string, string] = [JSON.stringify(evaluation), JSON.stringify(evaluation.score)];
  if (key !== undefined && PLAIN_EVALUATIONS.size < MAX_PLAIN_EVALUATIONS) PLAIN_EVALUATIONS.set(key, texts);
  return texts;
}

/**
 * What a valid result without reasons is made of (its scores and metric names, one key per
 * distinct evaluation text: the cache is shared by every account), else undefined.
 */
function plainKey(scored: ScoredRow): string | undefined {
  if (!scored.ok || !scored.isScoreValid || scored.reason !== null) return undefined;
  let key = String(scored.score);
  for (const name in scored.metrics) {
    const metric = scored.metrics[name]!;
    if (!metric.is_score_valid || metric.reason !== null) return undefined;
    // The name's length first: no name can pass for the end of one and the start of another.
    key += `\u0000${name.length}:${name}\u0000${metric.score}`;
  }
  return key;
}

/** An output row's text. */
export function outputRowText(row: OutputRow): string {
  return 'text' in row ? row.text : spliceOutputKeys(row.input, row.evaluation, row.score);
}

/** The input row's text with evaluation_result, evals and eval_details added before its closing brace. */
export function spliceOutputKeys(input: string, evaluation: string, score: string): string {
  const close = input.lastIndexOf('}');
  const keys = `"evaluation_result":${evaluation},"evals":{"score":${score}},"eval_details":${evaluation}`;
  const separator = isEmptyObject(input, close) ? '' : ',';
  return `${input.slice(0, close)}${separator}${keys}${input.slice(close)}`;
}

const MAY_HOLD_OUTPUT_KEYS = /"(?:evaluation_result|evals|eval_details)"|\\u00[4-7]/;

/** Only whitespace between the opening brace and the closing one at `close`. */
function isEmptyObject(text: string, close: number): boolean {
  for (let i = close - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) return true;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return false;
}

function evaluationOf(scored: ScoredRow): Evaluation {
  return scored.ok
    ? { score: scored.score, is_score_valid: scored.isScoreValid, reason: scored.reason, metrics: scored.metrics }
    : { score: 0, is_score_valid: false, reason: `${scored.kind}: ${scored.message}`, metrics: {}, error: scored.message };
}

function rowResult(idx: number, scored: ScoredRow, evaluation: Evaluation): RowResult {
  const metrics: Record<string, number> = {};
  if (scored.ok) for (const [name, metric] of Object.entries(scored.metrics)) if (metric.is_score_valid) metrics[name] = metric.score;
  return { idx, score: evaluation.score, isScoreValid: scored.ok && scored.isScoreValid, errorKind: scored.ok ? '' : scored.kind, ms: scored.ms, metrics };
}
