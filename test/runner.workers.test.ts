import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from './support/databases.js';
import { apiClient, startTally, until, type TallyProcess } from './support/processes.js';

const KEY = 'tly_workers_test_key_012345678';
const ROWS = 6_000;
// ~2 ms a row: the job lasts long enough for both workers to take chunks and for one to die mid-chunk.
const EVALUATE = 'import time\ndef evaluate(messages, ground_truth=None, **kw):\n    time.sleep(0.002)\n    return float(messages[-1]["content"] == ground_truth)\n';


/** Several `tally worker` processes on one PostgreSQL share a job; a killed one loses nothing. */
describe('workers on PostgreSQL', () => {
  const processes: TallyProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
  });

  it('splits a job between two workers with no double work, and survives one being killed', async () => {
    const database = await freshDatabaseUrl('postgres');
    const common = {
      TALLY_DATABASE_URL: database, TALLY_API_KEY: KEY, TALLY_ACCOUNT_ID: 'acme',
      TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'), TALLY_LEASE_SECONDS: '2', TALLY_WORKER_SLOTS: '1',
    };
    const dataDir = mkdtempSync(join(tmpdir(), 'tally-workers-'));
    const server = await startTally(['serve'], { ...common, TALLY_DATA_DIR: dataDir, TALLY_PORT: '0', TALLY_IN_PROCESS_WORKER: 'false' }, /listening on (\S+)/);
    processes.push(server);
    const base = server.banner;
    const call = apiClient(() => base, KEY);
    const a = '/v1/accounts/acme';
    await call('POST', `${a}/evaluatorsV2`, { evaluatorId: 'slow', evaluator: { criteria: [{ name: 'exact', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } });
    await until('evaluator ACTIVE', async () => ((await call('GET', `${a}/evaluators/slow`))['state'] === 'ACTIVE' ? true : undefined));
    const lines = Array.from({ length: ROWS }, (_, i) => JSON.stringify({ messages: [{ role: 'assistant', content: String(i % 4) }], ground_truth: String(i % 2) }));
    await call('POST', `${a}/datasets`, { dataset: {}, datasetId: 'rows' });
    const form = new FormData();
    form.append('file', new Blob([lines.join('\n') + '\n']), 'rows.jsonl');
    await call('POST', `${a}/datasets/rows:upload`, form);

    const worker = (name: string) => startTally(['worker'], { ...common, TALLY_DATA_DIR: mkdtempSync(join(tmpdir(), `tally-${name}-`)) }, /tally worker (\S+) started/);
    const [first, second] = await Promise.all([worker('w1'), worker('w2')]);
    processes.push(first, second);
    await call('POST', `${a}/evaluationJobs`, {
      evaluationJobId: 'shared',
      evaluationJob: { evaluator: 'accounts/acme/evaluators/slow', inputDataset: 'accounts/acme/datasets/rows', outputDataset: 'accounts/acme/datasets/shared-out', settings: { chunkRows: 200 } },
    });
    await until('a third of the rows', async () => ((await call('GET', `${a}/evaluationJobs/shared`))['progress'].rowsDone >= ROWS / 3 ? true : undefined));
    await first.kill('SIGKILL');

    const job = await until('the job to finish', async () => {
      const got = await call('GET', `${a}/evaluationJobs/shared`);
      return got['state'] === 'JOB_STATE_COMPLETED' || got['state'] === 'JOB_STATE_FAILED' ? got : undefined;
    });
    expect(job['state']).toBe('JOB_STATE_COMPLETED');
    expect(job['metrics']).toMatchObject({ row_count: ROWS, error_count: 0, score: 0.5 });

    const client = new pg.Client({ connectionString: database });
    await client.connect();
    try {
      const owners = await client.query<{ owner: string; chunks: string }>(
        "select split_part(lease_owner, ':', 2) as owner, count(*) as chunks from job_chunks where job_id = 'shared' group by 1",
      );
      expect(owners.rows.length).toBe(2);
      const results = await client.query<{ n: string; distinct_idx: string }>(
        "select count(*) as n, count(distinct idx) as distinct_idx from job_results r join evaluation_jobs j on r.row_set_id = j.output_row_set_id where j.id = 'shared'",
      );
      expect(Number(results.rows[0]!.n)).toBe(ROWS);
      expect(Number(results.rows[0]!.distinct_idx)).toBe(ROWS);
      // Output rows are written a chunk at a time (row blocks): together they hold every row once.
      const blocks = await client.query<{ n: string; overlaps: string }>(
        "select coalesce(sum(b.last_idx - b.first_idx + 1), 0) as n, " +
          "(select count(*) from row_blocks x join row_blocks y on x.row_set_id = y.row_set_id and x.first_idx < y.first_idx and y.first_idx <= x.last_idx where x.row_set_id = j.output_row_set_id) as overlaps " +
          "from evaluation_jobs j join row_blocks b on b.row_set_id = j.output_row_set_id where j.id = 'shared' group by j.output_row_set_id",
      );
      expect(Number(blocks.rows[0]!.n)).toBe(ROWS);
      expect(Number(blocks.rows[0]!.overlaps)).toBe(0);
    } finally {
      await client.end();
    }
  }, 600_000);
});
