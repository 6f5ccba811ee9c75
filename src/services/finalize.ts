import { MetricsAccumulator } from '../domain/metrics.js';
import { RolloutAccumulator } from '../domain/rollout-metrics.js';
import type { JobRecord, JobState } from '../domain/jobs.js';
import { nowIso, type DatasetStats } from '../domain/types.js';
import type { Store } from '../store/index.js';

/** Done chunks read at once (a chunk's results are one value: 1,000 rows by default). */
const CHUNK_PAGE = 20;

/**
 * The end of a job: metrics and output stats from the stored per-row results, the output rows
 * made the output dataset's rows, then the final state. Every step can run again after a crash
 * (the sweeper finishes jobs left in WRITING_RESULTS) and gives the same outcome.
 */
async function writeResults(store: Store, job: JobRecord, final: { state: JobState; message: string }): Promise<void> {
  const accumulator = new MetricsAccumulator();
  const rollout = job.settings.rollout && new RolloutAccumulator(job.settings.rollout.numRuns, job.settings.rollout.passThreshold);
  for (let after = -1; ; ) {
    const chunks = await store.jobs.readChunkResults(job, after, CHUNK_PAGE);
    if (chunks.length === 0) break;
    for (const chunk of chunks) for (const result of chunk.results) accumulator.add(result);
    if (rollout) for (const chunk of chunks) for (const result of chunk.results) rollout.add(result);
    after = chunks[chunks.length - 1]!.index;
  }
  const endTime = job.progress.endTime || nowIso();
  const wallSeconds = job.progress.startTime ? (Date.parse(endTime) - Date.parse(job.progress.startTime)) / 1000 : 0;
  const { metrics, outputStats } = accumulator.finish({ wallSeconds });
  // Rows the score cache answered (runner/score-cache.ts). A run's count, like its timings, so it
  // sits with them in outputStats: `metrics` stay what any run over the same rows reports.
  outputStats.cacheHits = job.progress.rowsCached ?? 0;
  if (rollout) Object.assign(metrics, rollout.finish());
  const input = await store.datasets.get(job.accountId, job.inputDatasetId);
  const stats: DatasetStats = {
    exampleCount: outputStats.rowCount,
    format: input?.format ?? 'FORMAT_UNSPECIFIED',
    averageTurnCount: input?.averageTurnCount ?? 0,
    estimatedTokenCount: input?.estimatedTokenCount ?? 0,
  };
  await store.datasets.commitRows(job.accountId, job.outputDatasetId, { rowSetId: job.outputRowSetId, stats, updateTime: nowIso() });
  const status = { code: final.state === 'JOB_STATE_COMPLETED' ? ('OK' as const) : ('CANCELLED' as const), message: final.message };
  const done = await store.jobs.update(
    job.accountId,
    job.id,
    { state: final.state, status, metrics, outputStats: JSON.stringify(outputStats), endTime, updateTime: nowIso() },
    { ifStates: ['JOB_STATE_WRITING_RESULTS', 'JOB_STATE_CANCELLING'] },
  );
  if (done) await store.rows.deleteSetIfUnused(job.inputRowSetId);
}

/** Called when the last chunk is done: RUNNING -> WRITING_RESULTS -> COMPLETED. */
export async function finalizeCompleted(store: Store, accountId: string, jobId: string): Promise<void> {
  const job = await store.jobs.update(accountId, jobId, { state: 'JOB_STATE_WRITING_RESULTS', endTime: nowIso(), updateTime: nowIso() }, {
    ifStates: ['JOB_STATE_RUNNING', 'JOB_STATE_PENDING', 'JOB_STATE_WRITING_RESULTS'],
  });
  if (job) await writeResults(store, job, { state: 'JOB_STATE_COMPLETED', message: '' });
}

/** A cancelled job keeps the rows scored so far: its output dataset holds them. */
export async function finalizeCancelled(store: Store, accountId: string, jobId: string): Promise<void> {
  const job = await store.jobs.get(accountId, jobId);
  if (!job || job.state !== 'JOB_STATE_CANCELLING') return;
  const { done } = await store.jobs.countChunks(accountId, jobId);
  const message = `cancelled by the user after ${job.progress.rowsDone} of ${job.progress.rowsTotal} rows (${done} chunks)`;
  await writeResults(store, { ...job, progress: { ...job.progress, endTime: job.progress.endTime || nowIso() } }, { state: 'JOB_STATE_CANCELLED', message });
}

/** Marks a job FAILED (from any unfinished state) with a reason; its partial rows stay queryable. */
export async function failJob(store: Store, job: JobRecord, message: string): Promise<void> {
  const failed = await store.jobs.update(job.accountId, job.id, { state: 'JOB_STATE_FAILED', status: { code: 'ABORTED', message }, endTime: nowIso(), updateTime: nowIso() }, {
    ifStates: ['JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_WRITING_RESULTS'],
  });
  if (failed) await store.rows.deleteSetIfUnused(job.inputRowSetId);
}
