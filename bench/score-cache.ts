/**
 * bench/score-cache: a 100,000-row job (default) run three times over the same rows through a
 * real server on SQLite with the real sandbox: the first run (cold cache: every row scored), the
 * same job again (warm cache: every row answered from it), and again with `cache: false` (every
 * row scored, the sandbox process already warm). Prints each run's seconds and rows/s and the
 * ratios. `--row-ms` makes the evaluator spend that long per row (default 0: the trivial
 * exact-match evaluator of bench/job, the hardest case for a cache to pay off).
 *
 *   npx tsx bench/score-cache.ts [--rows 100000] [--row-ms 0]
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { startServer } from '../src/server.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, 'row-ms': { type: 'string', default: '0' } } });
const ROWS = Number(values.rows);
const ROW_MS = Number(values['row-ms']);
const KEY = 'tly_bench_cache_key_0123456789';
const EVALUATE = [
  'import time',
  'def evaluate(messages, ground_truth=None, **kwargs):',
  ROW_MS > 0 ? `    end = time.perf_counter() + ${ROW_MS / 1000}\n    while time.perf_counter() < end: pass` : '    pass',
  '    return {"score": 1.0 if messages[-1]["content"] == ground_truth else 0.0}',
  '',
].join('\n');

const dir = mkdtempSync(join(tmpdir(), 'tally-bench-cache-'));
// The data directory lives inside: sandboxed evaluators (other uids) must traverse it.
chmodSync(dir, 0o711);
const server = await startServer(loadConfig({
  env: {},
  flags: { dataDir: join(dir, 'data'), envDir: join(tmpdir(), 'tally-test-envs'), database: `sqlite:${join(dir, 'tally.db')}`, port: 0, accountId: 'bench', apiKey: KEY, rateLimitPerMinute: 0 },
}));

async function api(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const form = body instanceof FormData;
  const response = await fetch(`${server.url}/v1/accounts/bench/${path}`, {
    method, headers: form ? { authorization: `Bearer ${KEY}` } : { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : form ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, any>;
}

async function until(path: string, done: (r: Record<string, any>) => boolean): Promise<Record<string, any>> {
  for (;;) {
    const resource = await api('GET', path);
    if (done(resource)) return resource;
    await new Promise((r) => setTimeout(r, 50));
  }
}

let runs = 0;
async function timedJob(settings: Record<string, unknown>): Promise<{ seconds: number; cached: number }> {
  const id = `run${++runs}`;
  const start = performance.now();
  await api('POST', 'evaluationJobs', { evaluationJobId: id, evaluationJob: { evaluator: 'exact', inputDataset: 'rows', outputDataset: `${id}-out`, settings } });
  const job = await until(`evaluationJobs/${id}`, (j) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(j['state']));
  if (job['state'] !== 'JOB_STATE_COMPLETED') throw new Error(`${id}: ${JSON.stringify(job['status'])}`);
  return { seconds: (performance.now() - start) / 1000, cached: job['progress']['rowsCached'] as number };
}

try {
  await api('POST', 'evaluatorsV2', { evaluatorId: 'exact', evaluator: { criteria: [{ name: 'exact', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } });
  await until('evaluators/exact', (e) => e['state'] === 'ACTIVE');
  const lines = Array.from({ length: ROWS }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `What is ${i} + 1?` }, { role: 'assistant', content: String(i % 3 ? i + 1 : i) }], ground_truth: String(i + 1) }));
  const form = new FormData();
  form.append('file', new Blob([lines.join('\n') + '\n']), 'rows.jsonl');
  await api('POST', 'datasets', { dataset: {}, datasetId: 'rows' });
  await api('POST', 'datasets/rows:upload', form);
  const report = (label: string, r: { seconds: number; cached: number }) =>
    console.log(`${label.padEnd(36)} ${r.seconds.toFixed(2).padStart(7)} s  ${Math.round(ROWS / r.seconds).toString().padStart(7)} rows/s  ${r.cached} rows from the cache`);
  const cold = await timedJob({});
  report('first run (cold cache)', cold);
  const warm = await timedJob({});
  report('re-run (warm cache)', warm);
  const uncached = await timedJob({ cache: false });
  report('re-run with cache: false', uncached);
  console.log(`rows ${ROWS}, evaluator ${ROW_MS} ms/row: first/warm ${(cold.seconds / warm.seconds).toFixed(1)}x, uncached re-run/warm ${(uncached.seconds / warm.seconds).toFixed(1)}x`);
} finally {
  await server.close();
}
