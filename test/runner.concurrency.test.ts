import { afterEach, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

// ~4 ms a row: chunks last long enough for leases to overlap when they may.
const SLOW = 'import time\ndef evaluate(messages, ground_truth=None, **kw):\n    time.sleep(0.004)\n    return 1.0\n';

/** A job's `concurrency` and an account's `accountConcurrency` bound the chunks leased at once. */
describe.each(STORE_KINDS)('concurrency limits on %s', (kind) => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function prepare(server: TestServer): Promise<void> {
    const a = `/v1/accounts/${server.accountId}`;
    await server.call('POST', `${a}/evaluatorsV2`, { body: { evaluatorId: 'slow', evaluator: { criteria: [{ name: 'one', codeSnippets: { fileContents: { 'main.py': SLOW } } }] } } });
    await waitFor(server, `${a}/evaluators/slow`, (e) => e['state'] === 'ACTIVE');
    await server.call('POST', `${a}/datasets`, { body: { dataset: {}, datasetId: 'rows' } });
    await server.call('POST', `${a}/datasets/rows:upload`, { body: multipartBody(jsonlFile(Array.from({ length: 240 }, (_, i) => ({ messages: [{ role: 'user', content: String(i) }] })))) });
  }

  async function startJob(server: TestServer, id: string, concurrency = 0): Promise<void> {
    const a = `accounts/${server.accountId}`;
    const created = await server.call('POST', `/v1/${a}/evaluationJobs`, {
      body: { evaluationJobId: id, evaluationJob: { evaluator: `${a}/evaluators/slow`, inputDataset: `${a}/datasets/rows`, outputDataset: `${a}/datasets/${id}-out`, settings: { chunkRows: 20, concurrency, cache: false } } }, // scored, not answered by the score cache
    });
    expect(created.status, created.text).toBe(200);
  }

  /** The most chunks leased at once across `jobIds`, sampled until all of them complete. */
  async function peakLeases(server: TestServer, jobIds: string[]): Promise<number> {
    let peak = 0;
    for (;;) {
      const counts = await Promise.all(jobIds.map((id) => server.server.store.jobs.countChunks(server.accountId, id)));
      peak = Math.max(peak, counts.reduce((sum, c) => sum + c.leased, 0));
      if (counts.every((c) => c.pending === 0 && c.leased === 0)) return peak;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('scores at most `concurrency` chunks of a job at once, though the worker has more slots', async () => {
    t = await startTestServer(kind, { workerSlots: 3 });
    await prepare(t);
    await startJob(t, 'one-at-a-time', 1);
    expect(await peakLeases(t, ['one-at-a-time'])).toBe(1);
    await startJob(t, 'free', 0);
    expect(await peakLeases(t, ['free'])).toBeGreaterThan(1);
    await waitFor(t, `/v1/accounts/${t.accountId}/evaluationJobs/free`, (j) => j['state'] === 'JOB_STATE_COMPLETED');
  });

  it("keeps an account's jobs together under accountConcurrency", async () => {
    t = await startTestServer(kind, { workerSlots: 4, accountConcurrency: 2 });
    await prepare(t);
    await Promise.all([startJob(t, 'first'), startJob(t, 'second')]);
    expect(await peakLeases(t, ['first', 'second'])).toBeLessThanOrEqual(2);
    for (const id of ['first', 'second']) {
      expect((await waitFor(t, `/v1/accounts/${t.accountId}/evaluationJobs/${id}`, (j) => j['state'] === 'JOB_STATE_COMPLETED'))['metrics']).toMatchObject({ row_count: 240 });
    }
  });
});
