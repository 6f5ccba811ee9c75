import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServer } from './support/model-server.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

const BIN = resolve(import.meta.dirname, '../bin/tally');
const EVALUATE = 'def evaluate(messages, ground_truth=None, **kwargs):\n    return float(messages[-1]["content"] == ground_truth)\n';

function tally(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TALLY_|FIREWORKS_)/.test(k)));
  return new Promise((done) => {
    execFile(BIN, args, { env: { ...inherited, ...env }, timeout: 240_000 }, (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }));
  });
}

describe('tally job create with a model', { timeout: 180_000 }, () => {
  let t: TestServer;
  let model: ModelServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    model = await startModelServer({ latencyMs: 5 });
    t = await startTestServer('sqlite', { workerSlots: 2 });
    env = { TALLY_BASE_URL: t.url, TALLY_API_KEY: t.key };
    const a = `/v1/accounts/${t.accountId}`;
    await t.call('POST', `${a}/evaluatorsV2`, { body: { evaluatorId: 'exact', evaluator: { criteria: [{ name: 'exact', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }] } } });
    await waitFor(t, `${a}/evaluators/exact`, (e) => e['state'] === 'ACTIVE');
    await t.call('POST', `${a}/datasets`, { body: { dataset: {}, datasetId: 'sums' } });
    const rows = Array.from({ length: 10 }, (_, i) => ({ messages: [{ role: 'user', content: `What is ${i} + 1?` }], ground_truth: String(i < 7 ? i + 1 : 0) }));
    await t.call('POST', `${a}/datasets/sums:upload`, { body: multipartBody(jsonlFile(rows)) });
  });
  afterAll(async () => {
    await t?.close();
    await model?.close();
  });

  it('generates with --model URL#MODEL, --runs K, and prints pass@1..K', async () => {
    const run = await tally(['job', 'create', '--evaluator', 'exact', '--dataset', 'sums', '--id', 'cli-gen', '--model', `${model.baseUrl}#tiny-model`, '--runs', '3', '--seed', '7', '--temperature', '0.7', '--watch'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/pass@1\s+0\.7\b/);
    expect(run.stdout).toMatch(/pass@3\s+0\.7\b/);
    expect(run.stdout).toMatch(/rollouts errored\s+0/);
    expect(run.stdout).toMatch(/30\/30 rows/);
    expect(model.requests).toHaveLength(30);
    expect(new Set(model.requests.map((r) => r.body.seed))).toEqual(new Set([7, 8, 9]));
    expect(model.requests.every((r) => r.body.model === 'tiny-model' && r.body.temperature === 0.7)).toBe(true);
  });

  it('names the flag that is wrong', async () => {
    const noModel = await tally(['job', 'create', '--evaluator', 'exact', '--dataset', 'sums', '--model', model.baseUrl], env);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/--model: expected URL#MODEL/);
    const badRuns = await tally(['job', 'create', '--evaluator', 'exact', '--dataset', 'sums', '--model', `${model.baseUrl}#m`, '--runs', 'two'], env);
    expect(badRuns.code).toBe(2);
    expect(badRuns.stderr).toMatch(/--runs: expected an integer, got "two"/);
  });
});
