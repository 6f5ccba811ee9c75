import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from './support/databases.js';
import { apiClient, startTally, until, type TallyProcess } from './support/processes.js';

const KEY = 'tly_restart_leases_key_0123456789';
const ROWS = 2_000;
const EVALUATE = 'import time\ndef evaluate(messages, ground_truth=None, **kw):\n    time.sleep(0.005)\n    return 1.0\n';

/** A server killed with kill -9 takes its own chunks back when it starts again, not after the lease. */
describe('restart after kill -9', () => {
  const processes: TallyProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
  });

  it('reclaims its dead leases at start instead of waiting out a 10-minute lease', async () => {
    const env = {
      TALLY_DATA_DIR: mkdtempSync(join(tmpdir(), 'tally-leases-')), TALLY_DATABASE_URL: await freshDatabaseUrl('sqlite'), TALLY_PORT: '0',
      TALLY_API_KEY: KEY, TALLY_ACCOUNT_ID: 'acme', TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'), TALLY_LEASE_SECONDS: '600', TALLY_WORKER_SLOTS: '1',
    };
    const serve = async () => {
      const server = await startTally(['serve'], env, /listening on (\S+)/);
      processes.push(server);
      return server;
    };
    let server = await serve();
    const call = apiClient(() => server.banner, KEY);
    const a = '/v1/accounts/acme';
    await call('POST', `${a}/evaluatorsV2`, { evaluatorId: 'slow', evaluator: { criteria: [{ name: 'slow', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } });
    await until('evaluator ACTIVE', async () => ((await call('GET', `${a}/evaluators/slow`))['state'] === 'ACTIVE' ? true : undefined));
    await call('POST', `${a}/datasets`, { dataset: {}, datasetId: 'rows' });
    const form = new FormData();
    form.append('file', new Blob([Array.from({ length: ROWS }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: String(i) }] })).join('\n')]), 'rows.jsonl');
    await call('POST', `${a}/datasets/rows:upload`, form);
    await call('POST', `${a}/evaluationJobs`, { evaluationJobId: 'job', evaluationJob: { evaluator: `${a.slice(4)}/evaluators/slow`, inputDataset: `${a.slice(4)}/datasets/rows`, outputDataset: `${a.slice(4)}/datasets/out`, settings: { chunkRows: 1000 } } });
    await until('the job to run', async () => ((await call('GET', `${a}/evaluationJobs/job`))['state'] === 'JOB_STATE_RUNNING' ? true : undefined), 120_000);
    await server.kill('SIGKILL');

    const restarted = Date.now();
    server = await serve();
    const done = await until('the job to finish', async () => {
      const job = await call('GET', `${a}/evaluationJobs/job`);
      return ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(job['state'] as string) ? job : undefined;
    }, 240_000);
    expect(done['state']).toBe('JOB_STATE_COMPLETED');
    expect((done['metrics'] as Record<string, number>)['row_count']).toBe(ROWS);
    expect(Date.now() - restarted).toBeLessThan(240_000);
    expect(server.output()).toMatch(/took back [1-9]\d* chunk lease\(s\) of dead workers/);
  }, 600_000);
});
