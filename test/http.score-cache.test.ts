import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

/** Every call draws a fresh random token into its reason: a row scored again reads differently. */
const evaluator = (version: string) =>
  [
    'import random',
    'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
    '    answer = messages[-1]["content"]',
    '    if answer == "boom":',
    '        raise ValueError("cannot score boom")',
    `    return {"score": float(answer == ground_truth), "reason": "${version} %f" % random.random()}`,
    '',
  ].join('\n');

const row = (i: number) => ({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: i === 7 ? 'boom' : String(i % 3) }], ground_truth: '0' });
const finished = (j: Record<string, unknown>) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'].includes(j['state'] as string);

describe.each(STORE_KINDS)('the score cache on %s', (kind) => {
  let t: TestServer;
  let otherKey: string;
  let jobs = 0;

  beforeAll(async () => {
    // These evaluators are trivial: rows this cheap are not cached by default (scoreCacheMinRowMs).
    t = await startTestServer(kind, { workerSlots: 2, scoreCacheMinRowMs: 0 });
    otherKey = (await t.server.services.accounts.createAccount({ accountId: 'other' })).key;
    for (const [account, key] of [['acme', t.key], ['other', otherKey]] as const) {
      await t.call('POST', `/v1/accounts/${account}/evaluatorsV2`, { key, body: { evaluatorId: 'rand', evaluator: { criteria: [{ name: 'rand', codeSnippets: { language: 'python', fileContents: { 'main.py': evaluator('v1') } } }] } } });
      await poll(`/v1/accounts/${account}/evaluators/rand`, key, (e) => e['state'] === 'ACTIVE');
      await dataset(account, key, 'rows', Array.from({ length: 30 }, (_, i) => row(i)));
    }
    // The same rows grown by ten, and a filtered copy (every other row).
    await dataset('acme', t.key, 'grown', Array.from({ length: 40 }, (_, i) => row(i)));
    await dataset('acme', t.key, 'evens', Array.from({ length: 15 }, (_, k) => row(2 * k)));
  });
  afterAll(async () => {
    await t.close();
  });

  /** waitFor with another account's key. */
  async function poll(path: string, key: string, done: (r: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (const deadline = Date.now() + 240_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 150))) {
      const resource = (await t.call('GET', path, { key })).json;
      if (done(resource)) return resource;
    }
    throw new Error(`timed out waiting on ${path}`);
  }

  async function dataset(account: string, key: string, id: string, rows: object[]) {
    await t.call('POST', `/v1/accounts/${account}/datasets`, { key, body: { dataset: {}, datasetId: id } });
    const uploaded = await t.call('POST', `/v1/accounts/${account}/datasets/${id}:upload`, { key, body: multipartBody(jsonlFile(rows)) });
    expect(uploaded.status, uploaded.text).toBe(200);
  }

  /** Runs a job to its end; answers it with its results' reasons by row index. */
  async function run(input: string, settings: Record<string, unknown> = {}, account = 'acme', key = t.key) {
    const id = `job${++jobs}`;
    const created = await t.call('POST', `/v1/accounts/${account}/evaluationJobs`, {
      key, body: { evaluationJobId: id, evaluationJob: { evaluator: 'rand', inputDataset: input, outputDataset: `${id}-out`, settings: { chunkRows: 8, ...settings } } },
    });
    expect(created.status, created.text).toBe(200);
    const job = await poll(`/v1/accounts/${account}/evaluationJobs/${id}`, key, finished);
    expect(job['state']).toBe('JOB_STATE_COMPLETED');
    const results = await t.call('GET', `/v1/accounts/${account}/evaluationJobs/${id}:listResults?pageSize=200&orderBy=index`, { key });
    const reasons = (results.json['results'] as { index: number; row: { evaluation_result: { reason: string; error?: string } } }[]).map((r) => r.row.evaluation_result.reason ?? r.row.evaluation_result.error);
    const stats = JSON.parse(job['outputStats'] as string) as Record<string, number>;
    return { job, reasons, stats, metrics: job['metrics'] as Record<string, number>, progress: job['progress'] as Record<string, number> };
  }

  it('answers a re-run from the cache: the hits are the unchanged rows, scores and reasons equal', async () => {
    const first = await run('rows');
    expect(first.progress['rowsCached']).toBe(0);
    expect(first.stats['cacheHits']).toBe(0);
    const again = await run('rows');
    // Row 7 raised: an error is never cached, so it is the one row scored again.
    expect(again.progress['rowsCached']).toBe(29);
    expect(again.stats['cacheHits']).toBe(29);
    expect(again.reasons.filter((_, i) => i !== 7)).toEqual(first.reasons.filter((_, i) => i !== 7));
    expect(again.reasons[7]).toContain('cannot score boom');
    for (const key of ['score', 'row_count', 'error_count', 'valid_rate']) expect(again.metrics[key]).toBe(first.metrics[key]);
    expect(again.job['settings']).toMatchObject({ cache: true });
  });

  it('scores only what is new in a grown dataset or a filtered copy', async () => {
    const base = await run('rows');
    const grown = await run('grown');
    expect(grown.progress['rowsCached']).toBe(29);
    expect(grown.reasons.slice(0, 30).filter((_, i) => i !== 7)).toEqual(base.reasons.filter((_, i) => i !== 7));
    const evens = await run('evens');
    expect(evens.progress['rowsCached']).toBe(15);
    expect(evens.reasons).toEqual(base.reasons.filter((_, i) => i % 2 === 0));
  });

  it('is off with cache: false, and a changed evaluator code invalidates it', async () => {
    const before = await run('rows');
    const off = await run('rows', { cache: false });
    expect(off.progress['rowsCached']).toBe(0);
    expect(off.job['settings']).toMatchObject({ cache: false });
    expect(off.reasons[0]).not.toBe(before.reasons[0]);
    const changed = await t.call('PATCH', `/v1/accounts/acme/evaluators/rand`, { body: { criteria: [{ name: 'rand', codeSnippets: { language: 'python', fileContents: { 'main.py': evaluator('v2') } } }] } });
    expect(changed.status, changed.text).toBe(200);
    await waitFor(t, '/v1/accounts/acme/evaluators/rand', (e) => e['state'] === 'ACTIVE');
    const rebuilt = await run('rows');
    expect(rebuilt.progress['rowsCached']).toBe(0);
    expect(rebuilt.reasons[0]).toMatch(/^rand: v2 /);
    // ...and the new build's scores are cached in their turn.
    expect((await run('rows')).progress['rowsCached']).toBe(29);
  });

  it("never answers one account's rows from another's", async () => {
    // acme has scored these exact rows with the same code many times by now.
    const other = await run('rows', {}, 'other', otherKey);
    expect(other.progress['rowsCached']).toBe(0);
    expect((await run('rows', {}, 'other', otherKey)).progress['rowsCached']).toBe(29);
  });

  it('misses when the account\'s secrets change (an evaluator sees them: a judge key, an endpoint)', async () => {
    expect((await run('rows', {}, 'other', otherKey)).progress['rowsCached']).toBe(29);
    const secret = await t.call('POST', '/v1/accounts/other/secrets', { key: otherKey, body: { keyName: 'JUDGE_KEY', value: 'judge-key-0123456789', name: 'judge-key' } });
    expect(secret.status, secret.text).toBe(200);
    expect((await run('rows', {}, 'other', otherKey)).progress['rowsCached']).toBe(0);
    expect((await run('rows', {}, 'other', otherKey)).progress['rowsCached']).toBe(29);
  });
});
