import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl, STORE_KINDS } from './support/databases.js';
import { apiClient, startTally, until, type TallyProcess } from './support/processes.js';

const KEY = 'tly_crash_small_key_0123456789';
const ROWS = 1500;
// 20 ms a row: Tally cuts its planned chunks (1500 / (4 x 2 slots) = 188 rows) to a probe, then
// to about 2 s of rows, so the job is many small chunks, some of them cut while leased.
const EVALUATE = 'import time\ndef evaluate(messages, ground_truth=None, **kw):\n    time.sleep(0.02)\n    return float(kw["i"] % 3 == 0)\n';

/** kill -9 of a server running a job of small, cut chunks: every row exactly once, in order. */
describe.each(STORE_KINDS)('crash and resume with small chunks on %s', (kind) => {
  const processes: TallyProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
  });

  it('finishes with every row exactly once, in input order', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tally-crash-small-'));
    const env = {
      TALLY_DATA_DIR: dataDir, TALLY_DATABASE_URL: await freshDatabaseUrl(kind), TALLY_PORT: '0', TALLY_API_KEY: KEY,
      TALLY_ACCOUNT_ID: 'acme', TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'), TALLY_LEASE_SECONDS: '2', TALLY_WORKER_SLOTS: '2',
    };
    const serve = () => startTally(['serve'], env, /listening on (\S+)/);
    let server = await serve();
    processes.push(server);
    let base = server.banner;
    const call = apiClient(() => base, KEY);
    const a = '/v1/accounts/acme';
    await call('POST', `${a}/evaluatorsV2`, { evaluatorId: 'slow', evaluator: { criteria: [{ name: 'slow', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } });
    await until('evaluator ACTIVE', async () => ((await call('GET', `${a}/evaluators/slow`))['state'] === 'ACTIVE' ? true : undefined));
    await call('POST', `${a}/datasets`, { dataset: {}, datasetId: 'rows' });
    const form = new FormData();
    form.append('file', new Blob([Array.from({ length: ROWS }, (_, i) => JSON.stringify({ i, messages: [{ role: 'user', content: String(i) }] })).join('\n') + '\n']), 'rows.jsonl');
    await call('POST', `${a}/datasets/rows:upload`, form);
    await call('POST', `${a}/evaluationJobs`, { evaluationJobId: 'crashy', evaluationJob: { evaluator: 'accounts/acme/evaluators/slow', inputDataset: 'accounts/acme/datasets/rows', outputDataset: 'accounts/acme/datasets/crashy-out' } });
    const doneBeforeKill = await until('the job to be part-way', async () => {
      const progress = (await call('GET', `${a}/evaluationJobs/crashy`))['progress'] as { rowsDone: number };
      return progress.rowsDone >= 300 ? progress.rowsDone : undefined;
    });
    await server.kill('SIGKILL');
    expect(doneBeforeKill).toBeLessThan(ROWS);

    server = await serve();
    processes.push(server);
    base = server.banner;
    const crashy = await until('the job to finish', async () => {
      const got = await call('GET', `${a}/evaluationJobs/crashy`);
      return ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(got['state']) ? got : undefined;
    });
    expect(crashy['state']).toBe('JOB_STATE_COMPLETED');
    expect(crashy['metrics']['row_count']).toBe(ROWS);
    expect(crashy['metrics']['score']).toBeCloseTo(500 / ROWS, 6);
    const endpoint = await call('GET', `${a}/datasets/crashy-out:getDownloadEndpoint`);
    const text = await (await fetch(Object.values(endpoint['filenameToSignedUrls'] as Record<string, string>)[0]!)).text();
    const output = text.trim().split('\n').map((l) => JSON.parse(l) as { i: number; evals: { score: number } });
    expect(output.map((r) => r.i)).toEqual(Array.from({ length: ROWS }, (_, i) => i));
    output.forEach((r) => expect(r.evals.score).toBe(r.i % 3 === 0 ? 1 : 0));
  }, 600_000);
});
