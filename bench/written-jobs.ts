/**
 * Finished jobs written straight through the Store, chunk by chunk as a worker writes them, for
 * benches that measure what comes after scoring (comparison, export) at a million rows.
 * Account 'bench' must exist.
 */
import { evenRanges } from '../src/domain/chunking.js';
import { DEFAULT_JOB_SETTINGS, type JobRecord } from '../src/domain/jobs.js';
import { toOutputRowFromText } from '../src/domain/output-rows.js';
import { nowIso } from '../src/domain/types.js';
import type { Store } from '../src/store/index.js';

export async function inputRows(store: Store, rowCount: number): Promise<number> {
  const set = await store.rows.createSet('bench');
  for (let start = 0; start < rowCount; start += 10_000) {
    const rows = Array.from({ length: Math.min(10_000, rowCount - start) }, (_, k) => JSON.stringify({ messages: [{ role: 'user', content: `q${start + k}` }], input_metadata: { row_id: `r${start + k}` } }));
    await store.rows.append(set, start, rows);
  }
  return set;
}

/** A finished job whose row i scores `scoreOf(i)`, written chunk by chunk as a worker would. */
export async function finishedJob(store: Store, { id, input, rows: rowCount }: { id: string; input: number; rows: number }, scoreOf: (i: number) => number): Promise<void> {
  const now = nowIso();
  const output = await store.rows.createSet('bench', { base: input });
  const job: JobRecord = {
    accountId: 'bench', id, displayName: id, createdBy: 'bench', createTime: now, updateTime: now, state: 'JOB_STATE_RUNNING', status: { code: 'OK', message: '' },
    evaluatorId: 'e', inputDatasetId: 'in', outputDatasetId: `${id}-out`, inputRowSetId: input, outputRowSetId: output, settings: DEFAULT_JOB_SETTINGS,
    progress: { rowsTotal: rowCount, rowsDone: 0, rowsErrored: 0, startTime: now, endTime: '' }, metrics: {}, outputStats: '', leaderboardIds: [],
  };
  await store.jobs.create(job, { runnable: true, ranges: evenRanges(rowCount, 1000) });
  for (;;) {
    const lease = await store.jobs.leaseChunk({ owner: 'bench', now: nowIso(), expireTime: new Date(Date.now() + 600_000).toISOString(), accountLimit: 0 });
    if (!lease) break;
    const inputs = await store.rows.read(input, lease.start - 1, lease.end - lease.start);
    const scored = inputs.map(({ idx, data }) => {
      const score = scoreOf(idx);
      return toOutputRowFromText(data, idx, { ok: true, score, isScoreValid: true, reason: null, metrics: { exact: { score, reason: null, is_score_valid: true } }, ms: 1 });
    });
    await store.jobs.completeChunk(lease, { outputRowSetId: output, rows: scored.map((s) => s.row), results: scored.map((s) => s.result), now: nowIso() });
  }
  await store.jobs.update('bench', id, { state: 'JOB_STATE_COMPLETED', runnable: false, updateTime: nowIso() });
}

