import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

const EVALUATE = [
  'import os, time',
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    answer = messages[-1]["content"]',
  '    if answer == "crash":',
  '        os._exit(3)',
  '    if answer == "boom":',
  '        raise ValueError("cannot score boom")',
  '    if answer == "slow":',
  '        time.sleep(30)',
  '    print("scored", answer)',
  '    ok = float(answer == ground_truth)',
  '    return {"score": ok, "reason": "exact match" if ok else "mismatch", "metrics": {"exact": {"score": ok, "reason": "", "is_score_valid": True}}}',
  '',
].join('\n');

const row = (i: number, answer = String(i % 3 === 0 ? i : i + 1)) => ({
  messages: [{ role: 'user', content: `echo ${i}` }, { role: 'assistant', content: answer }],
  ground_truth: String(i),
});

const finished = (j: Record<string, unknown>) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'].includes(j['state'] as string);

describe.each(STORE_KINDS)('evaluation jobs over HTTP on %s', (kind) => {
  let t: TestServer;
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    t = await startTestServer(kind, { workerSlots: 2, leaseSeconds: 5 });
    await t.call('POST', `${a()}/evaluatorsV2`, {
      body: { evaluatorId: 'exact', evaluator: { criteria: [{ name: 'exact', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }] } },
    });
    await waitFor(t, `${a()}/evaluators/exact`, (e) => e['state'] === 'ACTIVE');
    await dataset('rows300', Array.from({ length: 300 }, (_, i) => row(i)));
  });
  afterAll(async () => {
    await t.close();
  });

  async function dataset(id: string, rows: object[]) {
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: id } });
    const uploaded = await t.call('POST', `${a()}/datasets/${id}:upload`, { body: multipartBody(jsonlFile(rows)) });
    expect(uploaded.status, uploaded.text).toBe(200);
  }

  async function createJob(id: string, input: string, extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
    return t.call('POST', `${a()}/evaluationJobs`, {
      body: {
        evaluationJobId: id,
        evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/exact`, inputDataset: `accounts/${t.accountId}/datasets/${input}`, outputDataset: `accounts/${t.accountId}/datasets/${id}-out`, ...extra },
        ...top,
      },
    });
  }

  it('runs a job to COMPLETED with metrics, output stats and an output dataset in input order', async () => {
    const created = await createJob('job1', 'rows300', { displayName: 'first', settings: { chunkRows: 64 } });
    expect(created.status, created.text).toBe(200);
    expect(created.json).toMatchObject({ name: `accounts/${t.accountId}/evaluationJobs/job1`, state: 'JOB_STATE_PENDING', outputDataset: `accounts/${t.accountId}/datasets/job1-out` });
    const done = await waitFor(t, `${a()}/evaluationJobs/job1`, finished);
    expect(done['state']).toBe('JOB_STATE_COMPLETED');
    const metrics = done['metrics'] as Record<string, number>;
    expect(metrics['row_count']).toBe(300);
    expect(metrics['error_count']).toBe(0);
    expect(metrics['score']).toBeCloseTo(100 / 300, 10);
    expect(metrics['metric.exact']).toBeCloseTo(100 / 300, 10);
    expect(metrics['score_ci95_low']!).toBeLessThan(metrics['score']!);
    expect(metrics['score_ci95_high']!).toBeGreaterThan(metrics['score']!);
    const stats = JSON.parse(done['outputStats'] as string) as { rowCount: number; score: { histogram: { count: number }[] } };
    expect(stats.rowCount).toBe(300);
    expect(stats.score.histogram.reduce((n, b) => n + b.count, 0)).toBe(300);
    expect(done['progress']).toMatchObject({ rowsTotal: 300, rowsDone: 300, rowsErrored: 0, estimatedSecondsLeft: 0 });

    const output = await t.call('GET', `${a()}/datasets/job1-out`);
    expect(output.json).toMatchObject({ state: 'READY', exampleCount: '300', evaluationResult: { evaluationJobId: 'job1' } });
    const endpoint = await t.call('GET', `${a()}/datasets/job1-out:getDownloadEndpoint`);
    const text = (await t.call('GET', Object.values(endpoint.json['filenameToSignedUrls'] as Record<string, string>)[0]!, { key: null })).text;
    const rows = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(rows).toHaveLength(300);
    rows.forEach((r, i) => {
      expect(r['ground_truth']).toBe(String(i));
      expect(r['evals']).toEqual({ score: i % 3 === 0 ? 1 : 0 });
      expect(r['evaluation_result']).toMatchObject({ score: i % 3 === 0 ? 1 : 0, is_score_valid: true });
      expect(r['eval_details']['metrics']['exact']['score']).toBe(i % 3 === 0 ? 1 : 0);
    });

    const log = await t.call('GET', `${a()}/evaluationJobs/job1:getExecutionLogEndpoint`);
    const logText = (await t.call('GET', log.json['executionLogSignedUri'] as string, { key: null })).text;
    expect(logText).toContain('scored 0');
  });

  it('pages through results sorted by score and filtered', async () => {
    const worst = await t.call('GET', `${a()}/evaluationJobs/job1:listResults?orderBy=score&pageSize=5`);
    expect(worst.json['totalSize']).toBe(300);
    expect((worst.json['results'] as { score: number }[]).every((r) => r.score === 0)).toBe(true);
    const perfect = await t.call('GET', `${a()}/evaluationJobs/job1:listResults?filter=${encodeURIComponent('score >= 1')}&pageSize=200`);
    expect(perfect.json['totalSize']).toBe(100);
    const first = (perfect.json['results'] as { index: number; row: { ground_truth: string } }[])[0]!;
    expect(first).toMatchObject({ index: 0, row: { ground_truth: '0' } });
  });

  it('gives a crashing, raising or hanging row an error result and scores every other row', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => row(i, i === 5 ? 'crash' : i === 17 ? 'boom' : i === 30 ? 'slow' : String(i)));
    await dataset('poison', rows);
    await createJob('poisoned', 'poison', { settings: { perRowTimeoutSeconds: 2, maxErrorRate: 0.5 } });
    const done = await waitFor(t, `${a()}/evaluationJobs/poisoned`, finished, 120_000);
    expect(done['state'], JSON.stringify(done['status'])).toBe('JOB_STATE_COMPLETED');
    expect(done['metrics']).toMatchObject({ row_count: 40, error_count: 3, score: 1, valid_rate: 37 / 40 });
    const errored = await t.call('GET', `${a()}/evaluationJobs/poisoned:listResults?filter=${encodeURIComponent('errorKind != ""')}&orderBy=index`);
    const kinds = (errored.json['results'] as { index: number; errorKind: string; row: { evaluation_result: { reason: string } } }[]).map((r) => [r.index, r.errorKind]);
    expect(kinds).toEqual([[5, 'crash'], [17, 'exception'], [30, 'timeout']]);
    const stats = JSON.parse(done['outputStats'] as string) as { errorsByKind: Record<string, number> };
    expect(stats.errorsByKind).toEqual({ crash: 1, exception: 1, timeout: 1 });
  });

  it('fails a job whose errored share passes its limit', async () => {
    await dataset('allboom', Array.from({ length: 120 }, (_, i) => row(i, 'boom')));
    await createJob('doomed', 'allboom', { settings: { maxErrorRate: 0.2 } });
    const done = await waitFor(t, `${a()}/evaluationJobs/doomed`, finished);
    expect(done['state']).toBe('JOB_STATE_FAILED');
    expect((done['status'] as { message: string }).message).toMatch(/errored .* over the job's limit of 20\.0%/);
  });

  it('refuses bad creates naming the field, and leaves nothing behind', async () => {
    const cases: [Record<string, unknown>, Record<string, unknown>, number, string][] = [
      [{ evaluator: `accounts/${'acme'}/evaluators/ghost` }, {}, 404, 'evaluationJob.evaluator'],
      [{ inputDataset: 'accounts/acme/datasets/ghost' }, {}, 404, 'evaluationJob.inputDataset'],
      [{ outputDataset: 'accounts/acme/datasets/rows300' }, {}, 409, 'evaluationJob.outputDataset'],
      [{ evaluator: 'accounts/other/evaluators/exact' }, {}, 400, 'evaluationJob.evaluator'],
      [{ settings: { maxErrorRate: 2 } }, {}, 400, 'evaluationJob.settings.maxErrorRate'],
      [{}, { leaderboardIds: ['nope'] }, 404, 'leaderboardIds'],
    ];
    for (const [extra, top, status, field] of cases) {
      const response = await createJob('bad', 'rows300', extra, top);
      expect(response.status, response.text).toBe(status);
      expect(response.json['message']).toContain(field);
    }
    expect((await t.call('GET', `${a()}/evaluationJobs/bad`)).status).toBe(404);
    expect((await t.call('GET', `${a()}/datasets/bad-out`)).status).toBe(404);
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: 'empty' } });
    const notReady = await createJob('bad', 'empty');
    expect(notReady.status).toBe(400);
    expect(notReady.json['message']).toContain('not READY');
    expect((await createJob('job1', 'rows300')).status).toBe(409);
  });

  it('waits in PENDING for a building evaluator and fails with a failed build', async () => {
    await t.call('POST', `${a()}/evaluatorsV2`, { body: { evaluatorId: 'later', evaluator: {} } });
    const waiting = await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: 'waits', evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/later`, inputDataset: `accounts/${t.accountId}/datasets/rows300`, outputDataset: `accounts/${t.accountId}/datasets/waits-out` } },
    });
    expect(waiting.json).toMatchObject({ state: 'JOB_STATE_PENDING', status: { message: expect.stringContaining('waiting for evaluator') } });
    await t.call('PATCH', `${a()}/evaluators/later`, { body: { criteria: [{ name: 'x', codeSnippets: { fileContents: { 'main.py': 'def evaluate(:\n' } } }] } });
    const failed = await waitFor(t, `${a()}/evaluationJobs/waits`, finished);
    expect(failed).toMatchObject({ state: 'JOB_STATE_FAILED', status: { message: expect.stringContaining('failed to build') } });
  });

  it('cancels a running job, keeping the rows already scored', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => row(i, i >= 10 ? 'slow' : String(i)));
    await dataset('slowrows', rows);
    await createJob('cancelme', 'slowrows', { settings: { chunkRows: 10, perRowTimeoutSeconds: 30, concurrency: 1 } });
    await waitFor(t, `${a()}/evaluationJobs/cancelme`, (j) => (j['progress'] as { rowsDone: number }).rowsDone >= 10);
    const cancelled = await t.call('POST', `${a()}/evaluationJobs/cancelme:cancel`, { body: {} });
    expect(['JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED']).toContain(cancelled.json['state']);
    const done = await waitFor(t, `${a()}/evaluationJobs/cancelme`, finished, 90_000);
    expect(done['state']).toBe('JOB_STATE_CANCELLED');
    expect((done['metrics'] as Record<string, number>)['row_count']).toBe(10);
    expect((await t.call('GET', `${a()}/datasets/cancelme-out`)).json).toMatchObject({ state: 'READY', exampleCount: '10' });
    expect((await t.call('POST', `${a()}/evaluationJobs/cancelme:cancel`, { body: {} })).status).toBe(400);
  });

  it('ranks leaderboard jobs by score', async () => {
    const board = await t.call('POST', `${a()}/leaderboards`, { body: { leaderboard: { displayName: 'Board', description: 'd' }, leaderboardId: 'board' } });
    expect(board.status, board.text).toBe(200);
    await dataset('allright', Array.from({ length: 20 }, (_, i) => row(i, String(i))));
    await createJob('good', 'allright', {}, { leaderboardIds: ['board'] });
    await createJob('mixed', 'rows300', {}, { leaderboardIds: ['board'] });
    await waitFor(t, `${a()}/evaluationJobs/good`, finished);
    await waitFor(t, `${a()}/evaluationJobs/mixed`, finished);
    const got = await t.call('GET', `${a()}/leaderboards/board`);
    expect(got.json).toMatchObject({ leaderboard: { name: `accounts/${t.accountId}/leaderboards/board`, jobCount: 2, displayName: 'Board' } });
    const ranked = await t.call('GET', `${a()}/leaderboards/board:listEvaluationJobs`);
    expect((ranked.json['evaluationJobs'] as { name: string }[]).map((j) => j.name.split('/').pop())).toEqual(['good', 'mixed']);
    expect((await t.call('GET', `${a()}/leaderboards`)).json['totalSize']).toBe(1);
    expect((await t.call('DELETE', `${a()}/leaderboards/board`)).json).toEqual({});
    expect((await t.call('GET', `${a()}/leaderboards/board`)).status).toBe(404);
  });

  it('lists and deletes jobs; the output dataset stays', async () => {
    const listed = await t.call('GET', `${a()}/evaluationJobs?filter=${encodeURIComponent('state = JOB_STATE_COMPLETED')}&orderBy=createTime`);
    expect((listed.json['evaluationJobs'] as { name: string }[]).map((j) => j.name.split('/').pop())).toContain('job1');
    expect((await t.call('DELETE', `${a()}/evaluationJobs/job1`)).json).toEqual({});
    expect((await t.call('GET', `${a()}/evaluationJobs/job1`)).status).toBe(404);
    expect((await t.call('GET', `${a()}/datasets/job1-out`)).json['state']).toBe('READY');
  });
});
