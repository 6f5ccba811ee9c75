import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectBubblewrap } from '../../src/sandbox/index.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from '../support/server.js';

const available = await detectBubblewrap();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// Reads the secret at import (the build's import check) and per row; shows only its hash, and
// sleeps so that the sandbox lives long enough to be sampled many times.
const EVALUATE = [
  'import hashlib, os, time',
  'print("import sees", hashlib.sha256(os.environ.get("MY_TOKEN", "").encode()).hexdigest())',
  'time.sleep(1.5)',
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    time.sleep(0.3)',
  '    return {"score": 1.0, "reason": hashlib.sha256(os.environ.get("MY_TOKEN", "").encode()).hexdigest()}',
  '',
].join('\n');

/** Samples every process's arguments on the host until stopped; counts hits of `needle`. */
function sampleArgv(needle: string) {
  const stats = { samples: 0, hits: 0, bwrapSeen: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      let sawBwrap = false;
      for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
        const argv = await readFile(`/proc/${pid}/cmdline`).catch(() => Buffer.alloc(0));
        if (argv.includes(needle)) stats.hits += 1;
        if (argv.includes('bwrap\0')) sawBwrap = true;
      }
      stats.samples += 1;
      if (sawBwrap) stats.bwrapSeen += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return { stats, stop: async () => ((running = false), await loop, stats) };
}

describe.skipIf(!available)('issue 11: secrets are in no process argv on the host', () => {
  let t: TestServer;
  const secret = `tok_${randomBytes(18).toString('hex')}`;
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    t = await startTestServer('sqlite', { workerSlots: 1 });
    const created = await t.call('POST', `${a()}/secrets`, { body: { keyName: 'MY_TOKEN', value: secret, name: 'my-token' } });
    expect(created.status, created.text).toBe(200);
  });
  afterAll(async () => {
    await t.close();
  });

  it('builds with the secret: the import check reads it, no argv holds it', async () => {
    const sampler = sampleArgv(secret);
    const created = await t.call('POST', `${a()}/evaluatorsV2`, {
      body: { evaluatorId: 'argv-probe', evaluator: { criteria: [{ name: 'env', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }] } },
    });
    expect(created.status, created.text).toBe(200);
    const built = await waitFor(t, `${a()}/evaluators/argv-probe`, (e) => e['state'] !== 'BUILDING');
    const stats = await sampler.stop();
    expect(built['state'], JSON.stringify(built['status'])).toBe('ACTIVE');
    const logUrl = (await t.call('GET', `${a()}/evaluators/argv-probe:getBuildLogEndpoint`)).json['buildLogSignedUri'] as string;
    expect((await t.call('GET', logUrl, { key: null })).text).toContain(`import sees ${sha256(secret)}`);
    expect(stats.bwrapSeen, JSON.stringify(stats)).toBeGreaterThan(5); // the box was sampled while alive
    expect(stats.hits, JSON.stringify(stats)).toBe(0);
  });

  it('runs a job with the secret: the evaluator reads it, no argv holds it', async () => {
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: 'argv-in' } });
    const rows = [0, 1, 2, 3, 4, 5].map((i) => ({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'a' }] }));
    expect((await t.call('POST', `${a()}/datasets/argv-in:upload`, { body: multipartBody(jsonlFile(rows)) })).status).toBe(200);
    const sampler = sampleArgv(secret);
    const created = await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: 'argv-job', evaluationJob: { evaluator: `${a().slice(4)}/evaluators/argv-probe`, inputDataset: `${a().slice(4)}/datasets/argv-in`, outputDataset: `${a().slice(4)}/datasets/argv-out` } },
    });
    expect(created.status, created.text).toBe(200);
    const done = await waitFor(t, `${a()}/evaluationJobs/argv-job`, (j) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(j['state'] as string));
    const stats = await sampler.stop();
    expect(done['state'], JSON.stringify(done['status'])).toBe('JOB_STATE_COMPLETED');
    const results = await t.call('GET', `${a()}/evaluationJobs/argv-job:listResults?orderBy=index`);
    const reasons = (results.json['results'] as { row: { evaluation_result: { reason: string } } }[]).map((r) => r.row.evaluation_result.reason);
    expect(reasons).toEqual(rows.map(() => `env: ${sha256(secret)}`));
    expect(stats.bwrapSeen, JSON.stringify(stats)).toBeGreaterThan(5);
    expect(stats.hits, JSON.stringify(stats)).toBe(0);
  });

  it('previews with the secret: the evaluator reads it, no argv holds it, and printed it is redacted', async () => {
    const printing = EVALUATE.replace('    time.sleep(0.3)\n', '    time.sleep(0.3)\n    print("token is", os.environ.get("MY_TOKEN"))\n');
    expect(printing).not.toBe(EVALUATE);
    const sample = JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] });
    const sampler = sampleArgv(secret);
    const preview = await t.call('POST', `${a()}/evaluators:previewEvaluator`, {
      body: { evaluator: { criteria: [{ name: 'env', type: 'CODE_SNIPPETS', codeSnippets: { language: 'python', fileContents: { 'main.py': printing } } }] }, sampleData: [sample, sample, sample] },
    });
    const stats = await sampler.stop();
    expect(preview.status, preview.text).toBe(200);
    expect((preview.json['results'] as { reason: string }[]).map((r) => r.reason)).toEqual([0, 1, 2].map(() => expect.stringContaining(sha256(secret))));
    const stdout = (preview.json['stdout'] as string[]).join('\n');
    expect(stdout).toContain('token is [redacted MY_TOKEN]');
    expect(preview.text).not.toContain(secret);
    expect(stats.bwrapSeen, JSON.stringify(stats)).toBeGreaterThan(5);
    expect(stats.hits, JSON.stringify(stats)).toBe(0);
  });
});
