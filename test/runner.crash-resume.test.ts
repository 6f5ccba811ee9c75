import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from './support/databases.js';
import { apiClient, startTally, until, type TallyProcess } from './support/processes.js';

const KEY = 'tly_crash_test_key_0123456789';
const ROWS = 100_000;
const EVALUATE = 'def evaluate(messages, ground_truth=None, **kw):\n    return float(messages[-1]["content"] == ground_truth)\n';


/** A 100,000-row job survives `kill -9` of its server: exactly-once output, same metrics. */
describe('crash and resume', () => {
  const processes: TallyProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
  });

  it('finishes with every row exactly once and the metrics of an uninterrupted run', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tally-crash-'));
    const env = {
      TALLY_DATA_DIR: dataDir, TALLY_DATABASE_URL: await freshDatabaseUrl('sqlite'), TALLY_PORT: '0', TALLY_API_KEY: KEY,
      TALLY_ACCOUNT_ID: 'acme', TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'), TALLY_LEASE_SECONDS: '2', TALLY_WORKER_SLOTS: '1',
    };
    const serve = () => startTally(['serve'], env, /listening on (\S+)/);
    let server = await serve();
    processes.push(server);
    let base = server.banner;
    const call = apiClient(() => base, KEY);
    const a = '/v1/accounts/acme';

    await call('POST', `${a}/evaluatorsV2`, { evaluatorId: 'exact', evaluator: { criteria: [{ name: 'exact', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } });
    await until('evaluator ACTIVE', async () => ((await call('GET', `${a}/evaluators/exact`))['state'] === 'ACTIVE' ? true : undefined));
    const lines = Array.from({ length: ROWS }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: String(i % 7) }], ground_truth: String(i % 5) }));
    await call('POST', `${a}/datasets`, { dataset: {}, datasetId: 'big' });
    const form = new FormData();
    form.append('file', new Blob([lines.join('\n') + '\n']), 'big.jsonl');
    await call('POST', `${a}/datasets/big:upload`, form);
    const job = (id: string) => ({ evaluationJobId: id, evaluationJob: { evaluator: `accounts/acme/evaluators/exact`, inputDataset: 'accounts/acme/datasets/big', outputDataset: `accounts/acme/datasets/${id}-out`, settings: { chunkRows: 1000 } } });

    await call('POST', `${a}/evaluationJobs`, job('crashy'));
    const doneBeforeKill = await until('the job to be part-way', async () => {
      const progress = (await call('GET', `${a}/evaluationJobs/crashy`))['progress'] as { rowsDone: number };
      return progress.rowsDone >= 5_000 ? progress.rowsDone : undefined;
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

    const endpoint = await call('GET', `${a}/datasets/crashy-out:getDownloadEndpoint`);
    const text = await (await fetch(Object.values(endpoint['filenameToSignedUrls'] as Record<string, string>)[0]!)).text();
    const output = text.trim().split('\n').map((l) => JSON.parse(l) as { ground_truth: string; messages: { content: string }[]; evals: { score: number } });
    expect(output).toHaveLength(ROWS);
    output.forEach((r, i) => {
      expect(r.ground_truth).toBe(String(i % 5));
      expect(r.evals.score).toBe(i % 7 === i % 5 ? 1 : 0);
    });

    await call('POST', `${a}/evaluationJobs`, job('calm'));
    const calm = await until('the uninterrupted job', async () => {
      const got = await call('GET', `${a}/evaluationJobs/calm`);
      return got['state'] === 'JOB_STATE_COMPLETED' ? got : undefined;
    });
    expect(crashy['metrics']).toEqual({ ...calm['metrics'] });
    expect(crashy['metrics']['row_count']).toBe(ROWS);
  }, 600_000);
});
