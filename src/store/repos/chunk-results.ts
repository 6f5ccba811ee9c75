/**
 * The results of one chunk as one value: a column per field. Finishing a job reads every result
 * to compute its metrics; a row per result cost about 4 µs each to read back (a query row and
 * an object per result), a value per chunk a small fraction of that. job_results still holds a
 * row per result, for the results query (filters, sorting by score).
 */
import type { RowResult } from '../../domain/jobs.js';
import type { RolloutStat } from '../../domain/rollout.js';

interface ChunkResultColumns {
  idx: number[];
  score: number[];
  valid: (0 | 1)[];
  errorKind: string[];
  ms: number[];
  metrics: Record<string, number>[];
  /** Jobs with a rollout step only: [run, prompt tokens, completion tokens, latency ms, failed 0|1] per row. */
  rollout?: ([number, number, number, number, 0 | 1] | null)[];
}

export function encodeChunkResults(results: readonly RowResult[]): string {
  const columns: ChunkResultColumns = { idx: [], score: [], valid: [], errorKind: [], ms: [], metrics: [] };
  for (const r of results) {
    columns.idx.push(r.idx);
    columns.score.push(r.score);
    columns.valid.push(r.isScoreValid ? 1 : 0);
    columns.errorKind.push(r.errorKind);
    columns.ms.push(r.ms);
    columns.metrics.push(r.metrics);
  }
  if (results.some((r) => r.rollout)) columns.rollout = results.map((r) => (r.rollout ? rolloutColumn(r.rollout) : null));
  return JSON.stringify(columns);
}

export function decodeChunkResults(text: string): RowResult[] {
  const c = JSON.parse(text) as ChunkResultColumns;
  return c.idx.map((idx, i) => {
    const result: RowResult = { idx, score: c.score[i]!, isScoreValid: c.valid[i] === 1, errorKind: c.errorKind[i]!, ms: c.ms[i]!, metrics: c.metrics[i]! };
    const rollout = c.rollout?.[i];
    if (rollout) result.rollout = { run: rollout[0], promptTokens: rollout[1], completionTokens: rollout[2], latencyMs: rollout[3], failed: rollout[4] === 1 };
    return result;
  });
}

const rolloutColumn = (s: RolloutStat): [number, number, number, number, 0 | 1] => [s.run, s.promptTokens, s.completionTokens, s.latencyMs, s.failed ? 1 : 0];
