/**
 * How long `tally serve` takes to exit after SIGTERM, in three states, one server each:
 *   idle         nothing running
 *   chunk        a job's chunk being scored (slow rows), which the server releases
 *   build        an evaluator build in its import check, which the server kills (resumed next start)
 * Run: npx tsx bench/sigterm.ts [--sandbox bubblewrap|insecure-local]
 * The target: under 2 s in every state.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { sandbox: { type: 'string', default: 'bubblewrap' } } });
const KEY = 'tly_bench_sigterm_0123456789abcdef';
const SLOW_ROWS = 'import time\ndef evaluate(messages, ground_truth=None, **kw):\n    time.sleep(0.5)\n    return 1.0\n';
const SLOW_IMPORT = 'import time\ntime.sleep(30)\ndef evaluate(messages, ground_truth=None, **kw):\n    return 1.0\n';

async function serve(): Promise<{ url: string; stop: () => Promise<number> }> {
  const env = { ...process.env, TALLY_DATA_DIR: mkdtempSync(join(tmpdir(), 'tally-bench-sigterm-')), TALLY_PORT: '0', TALLY_API_KEY: KEY, TALLY_ACCOUNT_ID: 'bench', TALLY_SANDBOX: values.sandbox!, TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs') };
  const child = spawn(join(import.meta.dirname, '..', 'bin', 'tally'), ['serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
  });
  return {
    url,
    async stop() {
      const sent = performance.now();
      child.kill('SIGTERM');
      await exited;
      return performance.now() - sent;
    },
  };
}

async function api(url: string, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const isForm = body instanceof FormData;
  const headers: Record<string, string> = { authorization: `Bearer ${KEY}`, ...(isForm || body === undefined ? {} : { 'content-type': 'application/json' }) };
  const response = await fetch(`${url}/v1/accounts/bench${path}`, { method, headers, body: body === undefined ? undefined : isForm ? body : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, any>;
}

async function until(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((r) => setTimeout(r, 100));
}

const evaluator = (id: string, mainPy: string) => ({ evaluatorId: id, evaluator: { criteria: [{ name: 'c', codeSnippets: { fileContents: { 'main.py': mainPy } } }] } });

async function idle(): Promise<number> {
  return (await serve()).stop();
}

async function chunkInFlight(): Promise<number> {
  const server = await serve();
  await api(server.url, 'POST', '/evaluatorsV2', evaluator('slow', SLOW_ROWS));
  await until(async () => (await api(server.url, 'GET', '/evaluators/slow'))['state'] === 'ACTIVE');
  await api(server.url, 'POST', '/datasets', { dataset: {}, datasetId: 'in' });
  const form = new FormData();
  form.append('file', new Blob([Array.from({ length: 100 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: String(i) }] })).join('\n')]), 'in.jsonl');
  await api(server.url, 'POST', '/datasets/in:upload', form);
  await api(server.url, 'POST', '/evaluationJobs', { evaluationJobId: 'j', evaluationJob: { evaluator: 'accounts/bench/evaluators/slow', inputDataset: 'accounts/bench/datasets/in', outputDataset: 'accounts/bench/datasets/out' } });
  await until(async () => (await api(server.url, 'GET', '/evaluationJobs/j'))['progress']['rowsDone'] === 0 && (await api(server.url, 'GET', '/evaluationJobs/j'))['state'] === 'JOB_STATE_RUNNING');
  await new Promise((r) => setTimeout(r, 1_000));
  return server.stop();
}

async function buildInFlight(): Promise<number> {
  const server = await serve();
  await api(server.url, 'POST', '/evaluatorsV2', evaluator('slow-import', SLOW_IMPORT));
  await until(async () => String((await api(server.url, 'GET', '/evaluators/slow-import'))['status']['message']).startsWith('building: importing'));
  await new Promise((r) => setTimeout(r, 500));
  return server.stop();
}

const results: [string, number][] = [];
for (const [name, run] of [['idle', idle], ['chunk in flight', chunkInFlight], ['build in flight', buildInFlight]] as const) results.push([name, await run()]);
for (const [name, ms] of results) console.log(`SIGTERM to exit, ${name.padEnd(16)} ${ms.toFixed(0).padStart(6)} ms`);
