import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import Fastify from 'fastify';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebUi } from '../src/http/web.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

const ROOT = resolve(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

/** The legacy inline evaluator of the seed payload: exact match, with one named metric. */
const EVALUATE = [
  'import time',
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    answer = messages[-1]["content"].strip()',
  '    if answer == "slow":',
  '        time.sleep(0.2)',
  '    if answer == "boom":',
  '        raise ValueError("cannot score boom")',
  '    ok = float(answer == ground_truth)',
  '    reason = "exact match" if ok else "expected %s, got %s" % (ground_truth, answer)',
  '    return {"score": ok, "reason": reason, "metrics": {"exact": {"score": ok, "reason": reason, "is_score_valid": True}}}',
  '',
].join('\n');

const ROWS = [
  ['What is 2 + 2?', '4', '4'],
  ['Capital of France?', 'Paris', 'Lyon'],
  ['Largest planet?', 'Jupiter', 'Jupiter'],
  ['Color of the sky?', 'blue', 'blue'],
  ['3 * 3?', '9', '9'],
  ['Author of Hamlet?', 'Shakespeare', 'Shakespeare'],
].map(([question, truth, answer]) => ({
  messages: [
    { role: 'system', content: 'Answer with one word.' },
    { role: 'user', content: question },
    { role: 'assistant', content: answer },
  ],
  ground_truth: truth,
}));

describe('the web UI in a real browser', () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  let shot = 0;
  const screenshot = async (name: string) => {
    shot++;
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
  const consoleErrors: string[] = [];
  const nav = (section: string) => page.locator('header nav').getByRole('link', { name: section, exact: true }).click();
  const failedRequests: string[] = [];

  beforeAll(async () => {
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    // React's production bundle, whatever NODE_ENV vitest runs under.
    const nodeEnv = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = 'production';
    try {
      await build({ configFile: join(ROOT, 'web/vite.config.ts'), logLevel: 'error', mode: 'production' });
    } finally {
      process.env['NODE_ENV'] = nodeEnv;
    }
    t = await startTestServer('sqlite', { workerSlots: 2 });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400) failedRequests.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 120_000);

  it('serves the UI at / and for client-side routes, and leaves API paths to the API', async () => {
    const index = await fetch(`${t.url}/`);
    expect(index.headers.get('content-type')).toContain('text/html');
    const html = await index.text();
    expect(html).toContain('<div id="root">');
    const deep = await fetch(`${t.url}/jobs/some-job`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${t.url}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${t.url}/assets/missing.js`)).status).toBe(404);
    const api404 = await fetch(`${t.url}/v1/accounts/acme/nothing-here`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(api404.status).toBe(404);
    expect(api404.headers.get('content-type')).toContain('application/json');
    expect((await fetch(`${t.url}/healthz`)).headers.get('content-type')).toContain('application/json');
    for (const path of ['/assets/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/..%5c..%5cpackage.json']) {
      const response = await fetch(`${t.url}${path}`);
      expect([400, 404], path).toContain(response.status);
      expect(await response.text(), path).not.toContain('"name": "tally"');
    }
  });

  it('answers how to build the UI when web/dist is missing', async () => {
    const app = Fastify();
    registerWebUi(app, { distDir: join(tmpdir(), 'tally-no-such-dist') });
    const response = await app.inject({ url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.body).toContain('npm run build:web');
    expect((await app.inject({ url: '/jobs/x' })).body).toContain('npm run build:web');
    await app.close();
  });

  it('signs in with an API key', async () => {
    await page.goto(`${t.url}/`);
    await page.locator('input[name=apiKey]').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid');
    await screenshot('login');
    await page.locator('input[name=apiKey]').fill(t.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('account').filter({ hasText: 'acme' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('tally.session'))).toContain('acme');
    // The refused key above was a deliberate 401; from here on the console must stay clean.
    consoleErrors.length = 0;
    failedRequests.length = 0;
  });

  it('uploads a dataset and pages through its rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-ui-'));
    const file = join(dir, 'qa.jsonl');
    writeFileSync(file, jsonlFile(ROWS));
    await nav('Datasets');
    await page.locator('input[name=datasetId]').fill('qa');
    await page.locator('input[name=file]').setInputFiles(file);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"messages": []}\nnot json\n');
    await page.locator('input[name=file]').setInputFiles(bad);
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('line 2');
    await screenshot('dataset-refused');
    // The retry reuses the dataset the refused file left UPLOADING (its create answers 409).
    await page.locator('input[name=file]').setInputFiles(file);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.waitForURL('**/datasets/qa');
    expect(failedRequests).toEqual(['400 /v1/accounts/acme/datasets/qa:upload', '409 /v1/accounts/acme/datasets']);
    failedRequests.length = 0;
    consoleErrors.length = 0;
    await page.getByTestId('example-count').filter({ hasText: '6' }).waitFor();
    await expect.poll(() => page.getByTestId('dataset-row').count()).toBe(6);
    await page.getByTestId('dataset-row').nth(1).locator('button').click();
    const conversation = page.getByTestId('conversation');
    await conversation.waitFor();
    expect(await conversation.textContent()).toContain('Capital of France?');
    await screenshot('dataset');
  });

  it('creates an evaluator from the seed payload and watches it build to ACTIVE', async () => {
    await nav('Evaluators');
    await page.getByTestId('new-evaluator').click();
    const seeded = JSON.parse(await page.locator('textarea[name=payload]').inputValue()) as { evaluator: { criteria: unknown[] } };
    expect(seeded.evaluator.criteria).toHaveLength(1);
    const payload = {
      evaluatorId: 'exact',
      evaluator: { displayName: 'Exact match', criteria: [{ name: 'exact', type: 'CODE_SNIPPETS', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }] },
    };
    await page.locator('textarea[name=payload]').fill(JSON.stringify(payload, null, 2));
    await screenshot('evaluator-create');
    await page.getByRole('button', { name: 'Create evaluator' }).click();
    await page.waitForURL('**/evaluators/exact');
    await page.getByTestId('state').filter({ hasText: 'active' }).waitFor({ timeout: 240_000 });
    expect(await page.locator('pre.code').first().textContent()).toContain('def evaluate(messages');
    await screenshot('evaluator-active');
  }, 260_000);

  it('creates a job on a leaderboard, watches it complete, and reads its results', async () => {
    await nav('Leaderboards');
    await page.getByPlaceholder('optional').fill('main');
    await page.getByRole('button', { name: 'Create leaderboard' }).click();
    await page.getByRole('link', { name: 'main' }).waitFor();

    await nav('Jobs');
    await page.getByTestId('new-job').click();
    await page.locator('select[name=evaluator] option[value=exact]').waitFor({ state: 'attached' });
    await page.locator('select[name=evaluator]').selectOption('exact');
    await page.locator('select[name=dataset]').selectOption('qa');
    await page.locator('input[name=jobId]').fill('first');
    await page.getByLabel('main').check();
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.waitForURL('**/jobs/first');
    await page.getByTestId('state').filter({ hasText: 'completed' }).waitFor({ timeout: 120_000 });
    await page.getByTestId('metrics').waitFor();
    expect(await page.getByTestId('rows-done').textContent()).toBe('6');
    expect(await page.getByTestId('metric-score').textContent()).toBe('0.833');
    expect(await page.getByTestId('metric-ci').textContent()).toMatch(/95% CI \[[\d.]+, [\d.]+\]/);
    expect(await page.getByTestId('histogram').locator('rect.bar').count()).toBe(10);
    expect(await page.getByTestId('metric-means').textContent()).toContain('exact');
    await expect.poll(() => page.getByTestId('result-row').count()).toBe(6);
    await screenshot('job-completed');

    await page.locator('select[name=sort]').selectOption('score');
    await expect.poll(() => page.getByTestId('result-row').first().locator('td').first().textContent()).toBe('1');
    await page.getByTestId('result-row').first().click();
    const view = page.getByTestId('result-view');
    await view.waitFor();
    expect(await view.getByTestId('result-score').textContent()).toBe('0');
    expect(await view.getByTestId('result-reason').textContent()).toContain('expected Paris, got Lyon');
    expect(await view.getByTestId('ground-truth').textContent()).toBe('Paris');
    const conversation = await view.getByTestId('conversation').textContent();
    expect(conversation).toContain('Capital of France?');
    expect(conversation).toContain('Lyon');
    await screenshot('worst-row');

    await page.locator('select[name=filter]').selectOption('errored');
    await expect.poll(() => page.getByTestId('results').textContent()).toContain('No results match');
  }, 150_000);

  it('follows a running job live and cancels it', async () => {
    const a = `/v1/accounts/${t.accountId}`;
    const slowRows = Array.from({ length: 200 }, (_, i) => ({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'slow' }], ground_truth: 'fast' }));
    await t.call('POST', `${a}/datasets`, { body: { dataset: {}, datasetId: 'slow' } });
    expect((await t.call('POST', `${a}/datasets/slow:upload`, { body: multipartBody(jsonlFile(slowRows)) })).status).toBe(200);
    const created = await t.call('POST', `${a}/evaluationJobs`, {
      body: {
        evaluationJobId: 'slowjob',
        evaluationJob: { evaluator: `accounts/acme/evaluators/exact`, inputDataset: 'accounts/acme/datasets/slow', outputDataset: 'accounts/acme/datasets/slowjob-out', settings: { chunkRows: 5, concurrency: 1 } },
      },
    });
    expect(created.status, created.text).toBe(200);
    await nav('Jobs');
    await page.getByRole('link', { name: 'slowjob' }).click();
    await page.getByTestId('state').filter({ hasText: 'running' }).waitFor({ timeout: 60_000 });
    // The page polls: the count of rows done moves on without a reload.
    const seen = new Set<string>();
    await expect.poll(async () => seen.add((await page.getByTestId('rows-done').textContent()) ?? '').size, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    await screenshot('job-running');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('state').filter({ hasText: 'cancelled' }).waitFor({ timeout: 60_000 });
    const done = Number((await page.getByTestId('rows-done').textContent())!.replaceAll(',', ''));
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(200);
  }, 150_000);

  it('pages results and dataset rows on the server, and filters errored rows', async () => {
    const a = `/v1/accounts/${t.accountId}`;
    const manyRows = Array.from({ length: 120 }, (_, i) => ({
      messages: [{ role: 'user', content: `say ${i}` }, { role: 'assistant', content: i === 77 ? 'boom' : String(i % 4 === 0 ? -1 : i) }],
      ground_truth: String(i),
    }));
    await t.call('POST', `${a}/datasets`, { body: { dataset: {}, datasetId: 'many' } });
    expect((await t.call('POST', `${a}/datasets/many:upload`, { body: multipartBody(jsonlFile(manyRows)) })).status).toBe(200);
    await t.call('POST', `${a}/evaluationJobs`, {
      body: { evaluationJobId: 'many', evaluationJob: { evaluator: 'accounts/acme/evaluators/exact', inputDataset: 'accounts/acme/datasets/many', outputDataset: 'accounts/acme/datasets/many-out' } },
    });
    await waitFor(t, `${a}/evaluationJobs/many`, (j) => j['state'] === 'JOB_STATE_COMPLETED', 60_000);

    await page.goto(`${t.url}/jobs/many`);
    await page.getByTestId('metrics').waitFor();
    const pageLabel = page.getByTestId('results').locator('xpath=following-sibling::div[1]').getByTestId('page-label');
    await expect.poll(() => pageLabel.textContent()).toBe('Page 1 of 3');
    await page.getByRole('button', { name: 'Next ›' }).click();
    await expect.poll(() => page.getByTestId('result-row').first().locator('td').first().textContent()).toBe('50');
    await page.locator('select[name=sort]').selectOption('score desc');
    await expect.poll(() => pageLabel.textContent()).toBe('Page 1 of 3');
    expect(await page.getByTestId('result-row').first().locator('td').nth(1).textContent()).toBe('1');
    await page.locator('select[name=filter]').selectOption('errored');
    await expect.poll(() => page.getByTestId('result-row').count()).toBe(1);
    await page.getByTestId('result-row').first().click();
    expect(await page.getByTestId('result-error').textContent()).toContain('cannot score boom');
    await screenshot('errored-row');

    await page.goto(`${t.url}/datasets/many`);
    await expect.poll(() => page.getByTestId('dataset-row').count()).toBe(50);
    await page.getByRole('button', { name: 'Next ›' }).click();
    await expect.poll(() => page.getByTestId('dataset-row').first().textContent()).toContain('#50');
    expect(await page.getByTestId('page-label').textContent()).toBe('Rows 51–100 of 120');
    await page.getByRole('button', { name: 'Next ›' }).click();
    await expect.poll(() => page.getByTestId('dataset-row').count()).toBe(20);
  }, 120_000);

  it('compares a job with a baseline row by row, both outputs side by side', async () => {
    const a = `/v1/accounts/${t.accountId}`;
    // Scores every row 1: against "first" (5 of 6 right), Lyon for Paris is the one row that moved.
    // Its one criterion is named "exact" as the first job's is: the metric both report, compared too.
    const lenient = 'def evaluate(messages, ground_truth=None, tools=None, **kwargs):\n    return {"score": 1.0, "reason": "lenient"}\n';
    await t.call('POST', `${a}/evaluatorsV2`, { body: { evaluatorId: 'lenient', evaluator: { criteria: [{ name: 'exact', codeSnippets: { language: 'python', fileContents: { 'main.py': lenient } } }] } } });
    await waitFor(t, `${a}/evaluators/lenient`, (e) => e['state'] === 'ACTIVE');
    const created = await t.call('POST', `${a}/evaluationJobs`, {
      body: { evaluationJobId: 'second', leaderboardIds: ['main'], evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/lenient`, inputDataset: `accounts/${t.accountId}/datasets/qa`, outputDataset: `accounts/${t.accountId}/datasets/second-out` } },
    });
    expect(created.status, created.text).toBe(200);
    await waitFor(t, `${a}/evaluationJobs/second`, (j) => j['state'] === 'JOB_STATE_COMPLETED');
    await nav('Jobs');
    await page.getByRole('link', { name: 'second' }).click();
    await page.locator('select[name=baseline] option[value=first]').waitFor({ state: 'attached' });
    await page.locator('select[name=baseline]').selectOption('first');
    await page.getByTestId('compare-summary').waitFor();
    expect(await page.getByTestId('compare-improved').textContent()).toBe('1');
    expect(await page.getByTestId('compare-regressed').textContent()).toBe('0');
    expect(await page.getByTestId('compare-diff').textContent()).toBe('0.1667');
    // The metric both evaluators report, compared the same way.
    expect(await page.getByTestId('compare-metric').allTextContents()).toEqual([expect.stringMatching(/^exact0\.1667\[0, 0\.5000\]1\.0000 \(mcnemar-exact\)6$/)]);
    await expect.poll(() => page.getByTestId('compare-row').count()).toBe(1);
    await page.getByTestId('compare-row').first().click();
    const sides = page.getByTestId('side-by-side');
    await sides.waitFor();
    expect(await sides.textContent()).toContain('Capital of France?');
    expect(await sides.textContent()).toContain('Lyon');
    await screenshot('compare');
  }, 150_000);

  it('ranks the jobs on their leaderboard with confidence-interval bars and a test against the leader', async () => {
    await nav('Leaderboards');
    await page.getByRole('link', { name: 'main' }).click();
    await page.getByTestId('leaderboard').getByRole('link', { name: 'first' }).waitFor();
    expect(await page.getByTestId('ci-chart').locator('rect.ci-bar').count()).toBe(2);
    // "second" leads; one row of six apart is no significant difference: a tie, and the revision each ran.
    await expect.poll(() => page.getByTestId('versus-leader').textContent()).toMatch(/^tie Δ -0\.167 · p 1\.000$/);
    expect(await page.getByTestId('evaluator-version').allTextContents()).toEqual([' @v1', ' @v1']);
    await screenshot('leaderboard');
    await nav('Jobs');
    await page.getByTestId('job-row').first().waitFor();
    await screenshot('jobs');
    expect(failedRequests).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
