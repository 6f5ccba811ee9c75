/**
 * A chunk of a job with a rollout step: rollouts first, then the evaluator scores the rows whose
 * rollout succeeded; a row whose rollout failed is an errored row (kind `rollout`) with the reason,
 * never sent to the evaluator. Every output row carries its own text (the generated message is
 * not in the input row), and every result what its rollout did, for the job's metrics.
 */
import { outputRowText, toOutputRowFromText, type OutputRow } from '../../domain/output-rows.js';
import type { RowResult } from '../../domain/jobs.js';
import { scoreChunk, type PreparedChunk, type ScoredChunk, type SlotPools } from '../chunk-runner.js';
import type { RolloutStage } from './stage.js';

export interface RolloutRun {
  signal: AbortSignal;
  /**
   * Whether the job still runs: a chunk leased before a cancel must not start its rollouts
   * after it (the lease's watch only polls), since a request sent is a request billed.
   */
  stillRunnable: () => Promise<boolean>;
}

export async function rolloutAndScore(stage: RolloutStage, pools: SlotPools, chunk: PreparedChunk, { signal, stillRunnable }: RolloutRun): Promise<ScoredChunk | 'stopped'> {
  if (signal.aborted || !(await stillRunnable())) return 'stopped';
  const rolled = await stage.rollout(chunk, signal);
  if (rolled === 'stopped') return rolled;
  const toScore = rolled.filter((r) => r.error === undefined).map(({ idx, data }) => ({ idx, data }));
  const scored = await scoreChunk(pools, { ...chunk, input: toScore }, signal);
  if (scored === 'stopped') return scored;
  const at = new Map(scored.rows.map((row, i) => [row.idx, i]));
  const rows: OutputRow[] = [];
  const results: RowResult[] = [];
  for (const r of rolled) {
    const i = at.get(r.idx);
    const output = i === undefined
      ? toOutputRowFromText(r.data, r.idx, { ok: false, kind: 'rollout', message: r.error ?? 'the rollout gave no row to score', ms: 0 })
      : { row: scored.rows[i]!, result: scored.results[i]! };
    rows.push(ownText(output.row));
    results.push({ ...output.result, rollout: r.stat });
  }
  return { rows, results };
}

/** The row's whole text: a derived output row would otherwise be read back from the input row. */
const ownText = (row: OutputRow): OutputRow => ('text' in row ? row : { idx: row.idx, text: outputRowText(row) });
