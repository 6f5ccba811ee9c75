import { MetricsAccumulator } from '../domain/metrics.js';
import { DEFAULT_JOB_SETTINGS, type JobRecord, type RowResult } from '../domain/jobs.js';
import { recordedRowResult } from '../domain/recorded-results.js';
import { nowIso, type DatasetRecord, type Principal } from '../domain/types.js';
import type { Store } from '../store/index.js';
import { readRowSet } from './row-ingest.js';

/**
 * The uploaded results dataset when a create-job request is a record of results scored
 * elsewhere (domain/recorded-results.ts): its evaluator and input dataset do not exist and its
 * output dataset already does, READY. Any other request is an ordinary job (and those names
 * give their usual 404 or 409).
 */
export async function recordedResultsOf(
  store: Store,
  accountId: string,
  names: { evaluatorId: string; inputDatasetId: string; outputDatasetId: string },
): Promise<DatasetRecord | undefined> {
  const output = await store.datasets.get(accountId, names.outputDatasetId);
  if (!output || output.state !== 'READY' || output.rowSetId === null) return undefined;
  if (await store.evaluators.get(accountId, names.evaluatorId)) return undefined;
  if (await store.datasets.get(accountId, names.inputDatasetId)) return undefined;
  return output;
}

const RECORDED_CHUNK_ROWS = 1000;

/** A COMPLETED job over the uploaded rows, with metrics from their scores; nothing runs. */
export async function createRecordedJob(
  store: Store,
  args: { principal: Principal; id: string; displayName?: string | undefined; names: { evaluatorId: string; inputDatasetId: string }; output: DatasetRecord; leaderboardIds: string[] },
): Promise<JobRecord> {
  const { principal, id, names, output } = args;
  const accumulator = new MetricsAccumulator();
  const results: RowResult[] = [];
  for await (const page of readRowSet(store, output.rowSetId!)) {
    for (const text of page) {
      const result = recordedRowResult(JSON.parse(text), results.length);
      accumulator.add(result);
      results.push(result);
    }
  }
  const idx = results.length;
  const { metrics, outputStats } = accumulator.finish({ wallSeconds: 0 });
  const now = nowIso();
  const job: JobRecord = {
    accountId: principal.accountId, id, displayName: args.displayName || id, createdBy: principal.keyId, createTime: now, updateTime: now,
    state: 'JOB_STATE_COMPLETED',
    status: { code: 'OK', message: `recorded: results uploaded in dataset "${output.id}"; nothing was run` },
    evaluatorId: names.evaluatorId, inputDatasetId: names.inputDatasetId, outputDatasetId: output.id,
    // The output dataset's rows are both: the job reads nothing, and they stay while the dataset does.
    inputRowSetId: output.rowSetId!, outputRowSetId: output.rowSetId!, settings: DEFAULT_JOB_SETTINGS,
    progress: { rowsTotal: idx, rowsDone: idx, rowsErrored: 0, startTime: now, endTime: now },
    metrics, outputStats: JSON.stringify(outputStats), leaderboardIds: args.leaderboardIds,
  };
  // Done chunks holding the rows' results: the results query and :compare read them as any job's.
  const ranges = Array.from({ length: Math.ceil(idx / RECORDED_CHUNK_ROWS) }, (_, i): [number, number] => [i * RECORDED_CHUNK_ROWS, Math.min(idx, (i + 1) * RECORDED_CHUNK_ROWS)]);
  await store.jobs.create(job, { runnable: false, ranges, results });
  await store.datasets.update(principal.accountId, output.id, { origin: { ...output.origin, evaluationResult: { evaluationJobId: id } }, updateTime: nowIso() });
  return job;
}
