import { afterEach, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

/** Awaits `wait` seconds a row; its score is the most rows in flight at once so far. */
const ASYNC_EVALUATOR = `import asyncio, time
in_flight = 0
peak = 0
async def evaluate(messages, ground_truth=None, **kw):
    global in_flight, peak
    in_flight += 1
    peak = max(peak, in_flight)
    try:
        await asyncio.sleep(kw.get("wait", 0.2))
        return float(peak)
    finally:
        in_flight -= 1
`;
/** Sleeps \`wait\` seconds a row; its score is when the row began (seconds since the epoch). */
const SYNC_EVALUATOR = `import time
def evaluate(messages, ground_truth=None, **kw):
    started = time.time()
    time.sleep(kw.get("wait", 0.05))
    return started
`;

interface OutputRow {
  i: number;
  evals: { score: number };
}

describe.each(STORE_KINDS)('slow evaluators on %s', (kind) => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const a = () => `accounts/${t!.accountId}`;

  async function evaluator(id: string, code: string): Promise<void> {
    await t!.call('POST', `/v1/${a()}/evaluatorsV2`, { body: { evaluatorId: id, evaluator: { criteria: [{ name: 'c', codeSnippets: { fileContents: { 'main.py': code } } }] } } });
    await waitFor(t!, `/v1/${a()}/evaluators/${id}`, (e) => e['state'] === 'ACTIVE');
  }

  async function dataset(id: string, rows: object[]): Promise<void> {
    await t!.call('POST', `/v1/${a()}/datasets`, { body: { dataset: {}, datasetId: id } });
    const up = await t!.call('POST', `/v1/${a()}/datasets/${id}:upload`, { body: multipartBody(jsonlFile(rows)) });
    expect(up.status, up.text).toBe(200);
  }

  async function runJob(id: string, evaluatorId: string, datasetId: string, settings: object = {}): Promise<Record<string, unknown>> {
    const created = await t!.call('POST', `/v1/${a()}/evaluationJobs`, {
      body: { evaluationJobId: id, evaluationJob: { evaluator: `${a()}/evaluators/${evaluatorId}`, inputDataset: `${a()}/datasets/${datasetId}`, outputDataset: `${a()}/datasets/${id}-out`, settings } },
    });
    expect(created.status, created.text).toBe(200);
    return waitFor(t!, `/v1/${a()}/evaluationJobs/${id}`, (j) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(j['state'] as string));
  }

  async function output(jobId: string): Promise<OutputRow[]> {
    const endpoint = await t!.call('GET', `/v1/${a()}/datasets/${jobId}-out:getDownloadEndpoint`);
    const url = Object.values(endpoint.json['filenameToSignedUrls'] as Record<string, string>)[0]!;
    const text = (await t!.call('GET', url)).text;
    return text.trim().split('\n').map((line) => JSON.parse(line) as OutputRow);
  }

  const rows = (n: number, extra: object = {}) => Array.from({ length: n }, (_, i) => ({ i, messages: [{ role: 'user', content: String(i) }], ...extra }));

  it('an async evaluator has many rows in flight in each process; every row once, in order', async () => {
    t = await startTestServer(kind, { workerSlots: 2 });
    await evaluator('judge', ASYNC_EVALUATOR);
    await dataset('questions', rows(400));
    const job = await runJob('judged', 'judge', 'questions');
    expect(job['state']).toBe('JOB_STATE_COMPLETED');
    const out = await output('judged');
    expect(out.map((r) => r.i)).toEqual(rows(400).map((r) => r.i));
    expect(Math.max(...out.map((r) => r.evals.score))).toBeGreaterThan(8);
    // The job's own cap holds (another evaluator: the peak is per process, and processes are reused).
    await evaluator('judge-again', ASYNC_EVALUATOR);
    const capped = await runJob('capped', 'judge-again', 'questions', { maxConcurrentEvaluations: 3 });
    expect(capped['state']).toBe('JOB_STATE_COMPLETED');
    expect(Math.max(...(await output('capped')).map((r) => r.evals.score))).toBeLessThanOrEqual(3);
  });

  it('a sync evaluator with evaluationThreads runs rows in threads, and Tally cuts its chunks finer as it sees their pace', async () => {
    t = await startTestServer(kind, { workerSlots: 1 });
    await evaluator('slow', SYNC_EVALUATOR);
    await dataset('work', rows(160, { wait: 0.05 }));
    const job = await runJob('paced', 'slow', 'work');
    expect(job['state']).toBe('JOB_STATE_COMPLETED');
    // Planned: 4 chunks of 40 rows for one slot; a 16-row probe, then ~2 s of rows each (40 at 50 ms).
    const chunks = await t.server.store.jobs.countChunks(t.accountId, 'paced');
    expect(chunks.done).toBeGreaterThan(4);
    const out = await output('paced');
    expect(out.map((r) => r.i)).toEqual(rows(160).map((r) => r.i));
    // The same rows again: cache off, or the score cache would answer them all.
    const threaded = await runJob('threaded', 'slow', 'work', { evaluationThreads: 8, cache: false });
    expect(threaded['state']).toBe('JOB_STATE_COMPLETED');
    const starts = (await output('threaded')).map((r) => r.evals.score);
    // 8 threads: some rows started less than a row's time apart.
    const overlapping = starts.slice(1).filter((s, i) => Math.abs(s - starts[i]!) < 0.025).length;
    expect(overlapping).toBeGreaterThan(20);
  });

  it('a slow job\'s progress shows the rows in flight, the recent pace and the time left at that pace', async () => {
    t = await startTestServer(kind, { workerSlots: 2 });
    await evaluator('slow', SYNC_EVALUATOR);
    await dataset('slow-rows', rows(120, { wait: 0.1 }));
    const created = await t.call('POST', `/v1/${a()}/evaluationJobs`, {
      body: { evaluationJobId: 'watched', evaluationJob: { evaluator: `${a()}/evaluators/slow`, inputDataset: `${a()}/datasets/slow-rows`, outputDataset: `${a()}/datasets/watched-out`, settings: { chunkRows: 10 } } },
    });
    expect(created.status, created.text).toBe(200);
    type Progress = { rowsTotal: number; rowsDone: number; rowsInFlight?: number; recentRowsPerSecond?: number; estimatedSecondsLeft: number | null };
    const seen: Progress[] = [];
    for (let state = ''; state !== 'JOB_STATE_COMPLETED'; await new Promise((r) => setTimeout(r, 200))) {
      const job = (await t.call('GET', `/v1/${a()}/evaluationJobs/watched`)).json;
      state = job['state'] as string;
      expect(state).not.toBe('JOB_STATE_FAILED');
      if (state === 'JOB_STATE_RUNNING') seen.push(job['progress'] as Progress);
    }
    // Two slots score a 10-row chunk each: rows in flight while it runs, never more than are left.
    expect(seen.some((p) => (p.rowsInFlight ?? 0) > 0)).toBe(true);
    for (const p of seen) expect(p.rowsInFlight ?? 0).toBeLessThanOrEqual(p.rowsTotal - p.rowsDone);
    // Once two seconds were seen: about 20 rows/s (2 slots, 100 ms a row), and the time left from it.
    const paced = seen.filter((p) => p.recentRowsPerSecond !== undefined && p.rowsDone < p.rowsTotal);
    expect(paced.length).toBeGreaterThan(0);
    for (const p of paced) {
      expect(p.recentRowsPerSecond).toBeGreaterThan(5);
      expect(p.recentRowsPerSecond).toBeLessThan(60);
      expect(p.estimatedSecondsLeft).toBeCloseTo((p.rowsTotal - p.rowsDone) / p.recentRowsPerSecond!, 0);
    }
  });

  it('no slot holds a chunk it is not scoring while another slot is idle', async () => {
    t = await startTestServer(kind, { workerSlots: 2 });
    await evaluator('slow', SYNC_EVALUATOR);
    await dataset('two-chunks', rows(40, { wait: 0.1 }));
    const job = await runJob('spread', 'slow', 'two-chunks', { chunkRows: 20 });
    expect(job['state']).toBe('JOB_STATE_COMPLETED');
    const starts = (await output('spread')).map((r) => r.evals.score);
    // Each chunk takes 2 s in one slot; scored by both slots at once they start together.
    expect(Math.abs(starts[20]! - starts[0]!)).toBeLessThan(1.5);
  });

  it('a row Python cannot decode is one errored row wherever it is in its chunk; the job completes', async () => {
    t = await startTestServer(kind, { workerSlots: 2 });
    await evaluator('slow', SYNC_EVALUATOR);
    const texts = rows(30, { wait: 0 }).map((r) => JSON.stringify(r));
    const undecodable = [`{"i": ${'7'.repeat(5000)}}`, `{"i": 0, "deep": ${'['.repeat(5000)}${']'.repeat(5000)}}`];
    // Written through the store, as rows that got past the upload checks would be.
    for (const [n, at] of [0, 15, 29].entries()) {
      const id = `bad-${at}`;
      await dataset(id, rows(30));
      const set = await t.server.store.rows.createSet(t.accountId);
      await t.server.store.rows.append(set, 0, texts.map((text, i) => (i === at ? undecodable[n % 2]! : text)));
      await t.server.store.datasets.commitRows(t.accountId, id, { rowSetId: set, stats: { exampleCount: 30, format: 'FORMAT_UNSPECIFIED', averageTurnCount: 1, estimatedTokenCount: 0 }, updateTime: new Date().toISOString() });
    }
    const jobs = await Promise.all([0, 15, 29].map((at) => runJob(`job-${at}`, 'slow', `bad-${at}`, { chunkRows: 10 })));
    for (const [n, at] of [0, 15, 29].entries()) {
      expect(jobs[n]!['state']).toBe('JOB_STATE_COMPLETED');
      expect(jobs[n]!['metrics']).toMatchObject({ row_count: 30 });
      const record = (await t.server.store.jobs.get(t.accountId, `job-${at}`))!;
      const results = await t.server.store.jobs.readResults(record.outputRowSetId, -1, 100);
      expect(results).toHaveLength(30);
      expect(results.filter((r) => r.errorKind !== '').map((r) => [r.idx, r.errorKind])).toEqual([[at, 'exception']]);
    }
  });
});
