import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl, STORE_KINDS } from './support/databases.js';
import { startModelServer, type ModelServer } from './support/model-server.js';
import { apiClient, startTally, until, type TallyProcess } from './support/processes.js';

const KEY = 'tly_rollout_crash_key_0123456789';
const ROWS = 600;
const EVALUATE = 'def evaluate(messages, ground_truth=None, **kw):\n    return float(messages[-1]["content"] == ground_truth)\n';

/** kill -9 mid-job: the rollouts of rows written before the kill are never sent again. */
describe.each(STORE_KINDS)('rollout crash and resume on %s', (kind) => {
  const processes: TallyProcess[] = [];
  let model: ModelServer | undefined;
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await model?.close();
  });

  it('resumes without re-sending a finished row and gives every row exactly once', async () => {
    model = await startModelServer({ latencyMs: 100 });
    const env = {
      TALLY_DATA_DIR: mkdtempSync(join(tmpdir(), 'tally-rollout-crash-')), TALLY_DATABASE_URL: await freshDatabaseUrl(kind), TALLY_PORT: '0',
      TALLY_API_KEY: KEY, TALLY_ACCOUNT_ID: 'acme', TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'), TALLY_LEASE_SECONDS: '2', TALLY_WORKER_SLOTS: '1',
    };
    const serve = () => startTally(['serve'], env, /listening on (\S+)/);
    let server = await serve();
    processes.push(server);
    const call = apiClient(() => server.banner, KEY);
    const a = '/v1/accounts/acme';

    await call('POST', `${a}/evaluatorsV2`, { evaluatorId: 'exact', evaluator: { criteria: [{ name: 'exact', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } });
    await until('evaluator ACTIVE', async () => ((await call('GET', `${a}/evaluators/exact`))['state'] === 'ACTIVE' ? true : undefined));
    const lines = Array.from({ length: ROWS }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `What is ${i} + 1?` }], ground_truth: String(i + 1) }));
    await call('POST', `${a}/datasets`, { dataset: {}, datasetId: 'sums' });
    const form = new FormData();
    form.append('file', new Blob([lines.join('\n') + '\n']), 'sums.jsonl');
    await call('POST', `${a}/datasets/sums:upload`, form);
    await call('POST', `${a}/evaluationJobs`, {
      evaluationJobId: 'crashy',
      evaluationJob: {
        evaluator: 'accounts/acme/evaluators/exact', inputDataset: 'accounts/acme/datasets/sums', outputDataset: 'accounts/acme/datasets/crashy-out',
        settings: { chunkRows: 20 }, rollout: { baseUrl: model.baseUrl, model: 'test-model', maxConcurrentRollouts: 8 },
      },
    });
    await until('the job to be part-way', async () => {
      const progress = (await call('GET', `${a}/evaluationJobs/crashy`))['progress'] as { rowsDone: number };
      return progress.rowsDone >= 100 ? true : undefined;
    });
    // Rows written before the kill (a subset of them: more may be written until it lands).
    const written = ((await call('GET', `${a}/evaluationJobs/crashy:listResults?pageSize=1000`))['results'] as { index: number }[]).map((r) => r.index);
    await server.kill('SIGKILL');
    expect(written.length).toBeGreaterThanOrEqual(100);
    expect(written.length).toBeLessThan(ROWS);

    server = await serve();
    processes.push(server);
    const done = await until('the job to finish', async () => {
      const got = await call('GET', `${a}/evaluationJobs/crashy`);
      return ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(got['state']) ? got : undefined;
    });
    expect(done['state']).toBe('JOB_STATE_COMPLETED');
    expect(done['metrics']).toMatchObject({ row_count: ROWS, error_count: 0, score: 1, rollout_error_count: 0 });

    const sent = new Map<string, number>();
    for (const r of model.requests) sent.set(r.prompt, (sent.get(r.prompt) ?? 0) + 1);
    for (const idx of written) expect(sent.get(`What is ${idx} + 1?`), `row ${idx}`).toBe(1);
    for (let i = 0; i < ROWS; i++) expect(sent.get(`What is ${i} + 1?`) ?? 0, `row ${i}`).toBeGreaterThanOrEqual(1);
    // Only the chunks the dead worker held (at most 3 of 20 rows: written, scored, prepared) go again.
    expect(model.requests.length).toBeLessThanOrEqual(ROWS + 60);

    const endpoint = await call('GET', `${a}/datasets/crashy-out:getDownloadEndpoint`);
    const text = await (await fetch(Object.values(endpoint['filenameToSignedUrls'] as Record<string, string>)[0]!)).text();
    const output = text.trim().split('\n').map((l) => JSON.parse(l) as { messages: { content: string }[]; rollout: { run: number } });
    expect(output).toHaveLength(ROWS);
    output.forEach((row, i) => expect(row.messages.map((m) => m.content)).toEqual([`What is ${i} + 1?`, String(i + 1)]));
  }, 300_000);
});
