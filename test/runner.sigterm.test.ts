import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from './support/databases.js';
import { apiClient, startTally, until, type TallyProcess } from './support/processes.js';

const KEY = 'tly_sigterm_test_key_0123456789';
const ROWS = 40;
// Slow rows keep a chunk in flight when SIGTERM arrives.
const EVALUATE = 'import time\ndef evaluate(messages, ground_truth=None, **kw):\n    time.sleep(0.25)\n    return float(messages[-1]["content"] == ground_truth)\n';

/**
 * Issue 15, fix 10: SIGTERM stops the server quickly, and the chunk it was scoring is released
 * (not left to its lease's expiry): the next start takes it and finishes the job, every row once.
 */
describe('SIGTERM', () => {
  const processes: TallyProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
  });

  it('stops fast, releasing the chunk in flight, which the next start finishes exactly once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tally-sigterm-'));
    const env = {
      TALLY_DATA_DIR: dataDir, TALLY_DATABASE_URL: await freshDatabaseUrl('sqlite'), TALLY_PORT: '0', TALLY_API_KEY: KEY,
      TALLY_ACCOUNT_ID: 'acme', TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'), TALLY_WORKER_SLOTS: '1',
      // A lease far longer than the test: only a release lets the next start take the chunk soon.
      TALLY_LEASE_SECONDS: '600',
    };
    const serve = () => startTally(['serve'], env, /listening on (\S+)/);
    let server = await serve();
    processes.push(server);
    let base = server.banner;
    const call = apiClient(() => base, KEY);
    const a = '/v1/accounts/acme';

    await call('POST', `${a}/evaluatorsV2`, { evaluatorId: 'slow', evaluator: { criteria: [{ name: 'exact', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } });
    await until('evaluator ACTIVE', async () => ((await call('GET', `${a}/evaluators/slow`))['state'] === 'ACTIVE' ? true : undefined));
    const lines = Array.from({ length: ROWS }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: String(i % 3) }], ground_truth: '0' }));
    await call('POST', `${a}/datasets`, { dataset: {}, datasetId: 'in' });
    const form = new FormData();
    form.append('file', new Blob([lines.join('\n') + '\n']), 'in.jsonl');
    await call('POST', `${a}/datasets/in:upload`, form);
    await call('POST', `${a}/evaluationJobs`, {
      evaluationJobId: 'interrupted',
      evaluationJob: { evaluator: 'accounts/acme/evaluators/slow', inputDataset: 'accounts/acme/datasets/in', outputDataset: 'accounts/acme/datasets/out', settings: { chunkRows: 20 } },
    });
    await until('the job to run', async () => ((await call('GET', `${a}/evaluationJobs/interrupted`))['state'] === 'JOB_STATE_RUNNING' ? true : undefined));
    // Let the first chunk's scoring get under way (20 rows x 0.25 s: it is still in flight).
    await new Promise((r) => setTimeout(r, 1_500));
    const before = (await call('GET', `${a}/evaluationJobs/interrupted`))['progress'] as { rowsDone: number };
    expect(before.rowsDone).toBeLessThan(ROWS);

    const sent = performance.now();
    await server.kill('SIGTERM');
    const stopMs = performance.now() - sent;
    console.log(`SIGTERM to exit: ${stopMs.toFixed(0)} ms`);
    expect(server.child.exitCode).toBe(0);
    // The target is under 2 s; the margin is for a loaded test machine.
    expect(stopMs).toBeLessThan(6_000);

    const restarted = performance.now();
    server = await serve();
    processes.push(server);
    base = server.banner;
    const done = await until('the job to finish', async () => {
      const got = await call('GET', `${a}/evaluationJobs/interrupted`);
      return ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(got['state']) ? got : undefined;
    }, 120_000);
    // Far sooner than the 600 s lease: the chunk was released, not abandoned.
    expect(performance.now() - restarted).toBeLessThan(120_000);
    expect(done['state']).toBe('JOB_STATE_COMPLETED');
    expect(done['progress']).toMatchObject({ rowsTotal: ROWS, rowsDone: ROWS, rowsErrored: 0 });
    expect((done['metrics'] as Record<string, number>)['row_count']).toBe(ROWS);

    const endpoint = await call('GET', `${a}/datasets/out:getDownloadEndpoint`);
    const text = await (await fetch(Object.values(endpoint['filenameToSignedUrls'] as Record<string, string>)[0]!)).text();
    const rows = text.trim().split('\n').map((line) => JSON.parse(line) as { messages: { content: string }[]; evals: { score: number } });
    expect(rows).toHaveLength(ROWS);
    rows.forEach((row, i) => expect(row.evals.score).toBe(i % 3 === 0 ? 1 : 0));
  }, 300_000);

  it('stops fast during a build, which the next start builds again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tally-sigterm-build-'));
    const env = {
      TALLY_DATA_DIR: dataDir, TALLY_DATABASE_URL: await freshDatabaseUrl('sqlite'), TALLY_PORT: '0', TALLY_API_KEY: KEY,
      TALLY_ACCOUNT_ID: 'acme', TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'),
    };
    const serve = () => startTally(['serve'], env, /listening on (\S+)/);
    let server = await serve();
    processes.push(server);
    let base = server.banner;
    const call = apiClient(() => base, KEY);
    const a = '/v1/accounts/acme';
    // The import takes 8 s: SIGTERM lands in the middle of the build's import check.
    const slowImport = 'import time\ntime.sleep(8)\ndef evaluate(messages, ground_truth=None, **kw):\n    return 1.0\n';
    await call('POST', `${a}/evaluatorsV2`, { evaluatorId: 'slow-build', evaluator: { criteria: [{ name: 'c', codeSnippets: { fileContents: { 'main.py': slowImport } } }] } });
    await until('the import check', async () => (String((await call('GET', `${a}/evaluators/slow-build`))['status']?.['message']).startsWith('building: importing') ? true : undefined));

    const sent = performance.now();
    await server.kill('SIGTERM');
    const stopMs = performance.now() - sent;
    console.log(`SIGTERM to exit during a build: ${stopMs.toFixed(0)} ms`);
    expect(server.child.exitCode).toBe(0);
    expect(stopMs).toBeLessThan(6_000);

    server = await serve();
    processes.push(server);
    base = server.banner;
    expect(server.output()).toContain('resuming 1 evaluator build(s)');
    const built = await until('the resumed build', async () => {
      const got = await call('GET', `${a}/evaluators/slow-build`);
      return got['state'] === 'BUILDING' ? undefined : got;
    }, 120_000);
    expect(built).toMatchObject({ state: 'ACTIVE', status: { code: 'OK', message: '' } });
  }, 300_000);
});
