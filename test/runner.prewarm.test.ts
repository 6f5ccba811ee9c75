import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

const EVALUATE = 'def evaluate(messages, ground_truth=None, **kw):\n    return 1.0\n';

/** The Python processes running this server's harness (its data directory is its own). */
function harnessProcesses(dataDir: string): number[] {
  const harness = `${dataDir}/runtime/harness.py`;
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.includes(harness) && /python/.test(argv[0] ?? '');
    } catch {
      return false; // gone meanwhile
    }
  });
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    const value = probe();
    if (value !== undefined) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('sandbox processes started ahead of the first job', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('starts one per worker slot when a build finishes, and the first job runs in them', async () => {
    t = await startTestServer('sqlite', { workerSlots: 2 });
    const dir = t.dataDir;
    const name = `accounts/${t.accountId}`;
    const a = `/v1/${name}`;
    expect(harnessProcesses(dir)).toEqual([]);
    await t.call('POST', `${a}/evaluatorsV2`, { body: { evaluatorId: 'one', evaluator: { criteria: [{ name: 'one', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } } });
    await waitFor(t, `${a}/evaluators/one`, (e) => e['state'] === 'ACTIVE');
    const warm = await until('a process per slot', () => {
      const pids = harnessProcesses(dir);
      return pids.length === 2 ? pids : undefined;
    });

    await t.call('POST', `${a}/datasets`, { body: { dataset: {}, datasetId: 'rows' } });
    await t.call('POST', `${a}/datasets/rows:upload`, { body: multipartBody(jsonlFile(Array.from({ length: 50 }, (_, i) => ({ messages: [{ role: 'user', content: String(i) }] })))) });
    const created = await t.call('POST', `${a}/evaluationJobs`, {
      body: { evaluationJobId: 'first', evaluationJob: { evaluator: `${name}/evaluators/one`, inputDataset: `${name}/datasets/rows`, outputDataset: `${name}/datasets/first-out`, settings: { chunkRows: 10 } } },
    });
    expect(created.status, created.text).toBe(200);
    const job = await waitFor(t, `${a}/evaluationJobs/first`, (j) => j['state'] === 'JOB_STATE_COMPLETED');
    expect(job['metrics']).toMatchObject({ row_count: 50, score: 1 });
    expect(harnessProcesses(dir).sort()).toEqual([...warm].sort());

    await t.close();
    t = undefined;
    await until('no process left', () => (harnessProcesses(dir).length === 0 ? true : undefined), 10_000);
  });
});
