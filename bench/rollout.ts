/**
 * bench/rollout: a job with a rollout step over N rows through a real `tally serve` on SQLite,
 * against the test suite's model server (test/support/model-server.ts) answering each request
 * after a fixed latency: seconds from create to COMPLETED beside the floor (rows x latency /
 * requests in flight), requests in flight at most, and the server's memory by quarter of the job.
 *
 *   npx tsx bench/rollout.ts [--rows 10000] [--latency-ms 200] [--concurrency 96] [--runs 1] [--server-heap-mb MB]
 *
 * --server-heap-mb caps the server's heap: a job that completes under a small cap shows that
 * memory is bounded, not merely collected late.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startModelServer } from '../test/support/model-server.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '10000' }, 'latency-ms': { type: 'string', default: '200' }, concurrency: { type: 'string', default: '96' }, runs: { type: 'string', default: '1' }, 'server-heap-mb': { type: 'string' } } });
const ROWS = Number(values.rows);
const LATENCY = Number(values['latency-ms']);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);
const KEY = 'tly_bench_rollout_key_0123456789';
const EVALUATE = 'def evaluate(messages, ground_truth=None, **kwargs):\n    return {"score": 1.0 if messages[-1]["content"] == ground_truth else 0.0}\n';
const dir = mkdtempSync(join(tmpdir(), 'tally-bench-rollout-'));
chmodSync(dir, 0o711);

async function api(base: string, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const isForm = body instanceof FormData;
  const response = await fetch(`${base}${path}`, {
    method,
    headers: isForm ? { authorization: `Bearer ${KEY}` } : { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, any>;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function until<T>(probe: () => Promise<T | undefined>, intervalMs: number): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function startServer(): Promise<{ base: string; pid: number; stop: () => void }> {
  const env = { ...process.env, TALLY_DATA_DIR: join(dir, 'data'), TALLY_PORT: '0', TALLY_API_KEY: KEY, TALLY_ACCOUNT_ID: 'bench', TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'), TALLY_RATE_LIMIT_PER_MINUTE: '0',
    ...(values['server-heap-mb'] ? { NODE_OPTIONS: `--max-old-space-size=${values['server-heap-mb']}` } : {}) };
  const child = spawn(process.execPath, [...(process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir=' + process.env['BENCH_CPU_PROF']] : []), join(import.meta.dirname, '..', 'bin', 'tally.mjs'), 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += String(chunk);
      const match = /listening on (\S+)/.exec(output);
      if (match) resolve({ base: match[1]!, pid: child.pid!, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', () => reject(new Error(`server did not start: ${output}`)));
  });
}

const model = await startModelServer({ latencyMs: LATENCY });
const server = await startServer();
try {
  const a = '/v1/accounts/bench';
  await api(server.base, 'POST', `${a}/evaluatorsV2`, { evaluatorId: 'exact', evaluator: { criteria: [{ name: 'exact', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } });
  await until(async () => ((await api(server.base, 'GET', `${a}/evaluators/exact`))['state'] === 'ACTIVE' ? true : undefined), 50);
  await api(server.base, 'POST', `${a}/datasets`, { dataset: {}, datasetId: 'rows' });
  const lines = Array.from({ length: ROWS }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `What is ${i} + 1?` }], ground_truth: String(i % 3 ? i + 1 : i) }));
  const form = new FormData();
  form.append('file', new Blob([lines.join('\n') + '\n']), 'rows.jsonl');
  await api(server.base, 'POST', `${a}/datasets/rows:upload`, form);

  const idle = rssMb(server.pid);
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssMb(server.pid)), 100);
  const cpu = { server: cpuSeconds(server.pid), bench: process.cpuUsage() };
  const start = performance.now();
  await api(server.base, 'POST', `${a}/evaluationJobs`, {
    evaluationJobId: 'big',
    evaluationJob: {
      evaluator: 'accounts/bench/evaluators/exact', inputDataset: 'accounts/bench/datasets/rows', outputDataset: 'accounts/bench/datasets/big-out',
      rollout: { baseUrl: model.baseUrl, model: 'bench-model', numRuns: RUNS, maxConcurrentRollouts: CONCURRENCY, completionParams: { seed: 1 } },
    },
  });
  const done = await until(async () => {
    const got = await api(server.base, 'GET', `${a}/evaluationJobs/big`);
    return ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(got['state']) ? got : undefined;
  }, 50);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  if (done['state'] !== 'JOB_STATE_COMPLETED') throw new Error(`job ended ${done['state']}: ${JSON.stringify(done['status'])}`);

  const floor = (ROWS * RUNS * LATENCY) / 1000 / CONCURRENCY;
  const quarters = [0, 1, 2, 3].map((q) => samples.slice(Math.floor((q * samples.length) / 4), Math.floor(((q + 1) * samples.length) / 4))).filter((part) => part.length > 0);
  const range = (part: number[]) => `${Math.min(...part).toFixed(0)}-${Math.max(...part).toFixed(0)}`;
  const m = done['metrics'] as Record<string, number>;
  console.log(`rows: ${ROWS} x ${RUNS} runs, model latency ${LATENCY} ms, maxConcurrentRollouts ${CONCURRENCY}, store: sqlite`);
  console.log(`create -> COMPLETED: ${seconds.toFixed(2)} s (floor ${floor.toFixed(2)} s; ratio to the floor ${(seconds / floor).toFixed(2)})`);
  const benchCpu = process.cpuUsage(cpu.bench);
  console.log(`CPU during the job: tally server ${(cpuSeconds(server.pid) - cpu.server).toFixed(2)} s; this process (the model server) ${((benchCpu.user + benchCpu.system) / 1e6).toFixed(2)} s`);
  console.log(`requests sent: ${model.requests.length}, most in flight at once: ${model.maxInFlight}, connections opened: ${model.connections}`);
  console.log(`server RSS: idle ${idle.toFixed(0)} MB, peak ${Math.max(idle, ...samples).toFixed(0)} MB; by quarter of the job (min-max MB): ${quarters.map(range).join(', ')}`);
  console.log(`metrics: score ${m['score']}, rows ${m['row_count']}, errors ${m['error_count']}, rollout latency p50 ${m['rollout_latency_p50_ms']} ms p95 ${m['rollout_latency_p95_ms']} ms, tokens ${m['rollout_total_tokens']}`);
} finally {
  server.stop();
  await model.close();
}
