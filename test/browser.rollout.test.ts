import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAnswer, startModelServer, type ModelServer } from './support/model-server.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

const ROOT = resolve(import.meta.dirname, '..');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const EVALUATE = 'def evaluate(messages, ground_truth=None, **kwargs):\n    return {"score": float(messages[-1]["content"] == ground_truth), "reason": "checked"}\n';

/** A job with a rollout step in the web UI: pass@k beside the score, prompt | answer | score per row. */
describe('rollout jobs in the web UI', () => {
  let t: TestServer;
  let model: ModelServer;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const nodeEnv = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = 'production';
    try {
      await build({ configFile: join(ROOT, 'web/vite.config.ts'), logLevel: 'error', mode: 'production' });
    } finally {
      process.env['NODE_ENV'] = nodeEnv;
    }
    model = await startModelServer({ latencyMs: 5, answer: (prompt, request) => (request.seed! % 2 === 0 ? defaultAnswer(prompt) : 'unsure') });
    t = await startTestServer('sqlite', { workerSlots: 2 });
    const a = `/v1/accounts/${t.accountId}`;
    await t.call('POST', `${a}/evaluatorsV2`, { body: { evaluatorId: 'exact', evaluator: { criteria: [{ name: 'exact', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }] } } });
    await waitFor(t, `${a}/evaluators/exact`, (e) => e['state'] === 'ACTIVE');
    await t.call('POST', `${a}/datasets`, { body: { dataset: {}, datasetId: 'sums' } });
    const rows = [1, 2, 3].map((i) => ({ messages: [{ role: 'user', content: `What is ${i} + 1?` }], ground_truth: String(i + 1) }));
    await t.call('POST', `${a}/datasets/sums:upload`, { body: multipartBody(jsonlFile(rows)) });
    const created = await t.call('POST', `${a}/evaluationJobs`, {
      body: { evaluationJobId: 'gen', evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/exact`, inputDataset: `accounts/${t.accountId}/datasets/sums`, outputDataset: `accounts/${t.accountId}/datasets/gen-out`, rollout: { baseUrl: model.baseUrl, model: 'tiny', numRuns: 2, completionParams: { seed: 0 } } } },
    });
    expect(created.status, created.text).toBe(200);
    await waitFor(t, `${a}/evaluationJobs/gen`, (j) => j['state'] === 'JOB_STATE_COMPLETED');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await model?.close();
  }, 120_000);

  it('shows pass@k beside the score, and the prompt, generated answer and score side by side', async () => {
    await page.goto(`${t.url}/`);
    await page.locator('input[name=apiKey]').fill(t.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('account').waitFor();
    await page.goto(`${t.url}/jobs/gen`);
    await page.getByTestId('metrics').waitFor();
    // Run 0 (seed 0) is right, run 1 (seed 1) is not: half the runs pass, every row passes in 2.
    expect(await page.getByTestId('metric-score').textContent()).toBe('0.500');
    expect(await page.getByTestId('metric-pass-at-1').textContent()).toBe('0.500');
    expect(await page.getByTestId('metric-pass-at-2').textContent()).toBe('1');
    await expect.poll(() => page.getByTestId('result-row').count()).toBe(6);
    await page.getByTestId('result-row').first().click();
    const side = page.getByTestId('rollout-side');
    await side.waitFor();
    expect(await side.getByTestId('rollout-prompt').textContent()).toBe('What is 1 + 1?');
    expect(await side.getByTestId('rollout-answer').textContent()).toBe('2');
    expect(await side.getByTestId('rollout-score').textContent()).toBe('1');
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
