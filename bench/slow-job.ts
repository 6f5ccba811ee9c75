/**
 * bench/slow-job: evaluators that are slow instead of trivial, through a real `tally serve` on
 * SQLite, timed from create to COMPLETED.
 *
 *   npx tsx bench/slow-job.ts io      [--rows 1000]  async evaluator awaiting 200 ms a row; then
 *                                                    the sync one (time.sleep) with evaluationThreads 32
 *   npx tsx bench/slow-job.ts process [--rows 2000]  an evaluator running a Python subprocess per row,
 *                                                    against bench/baseline.py (one plain process)
 *   [--slots N]  worker slots (default: the server's, cores + 1)
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { availableParallelism, tmpdir } from 'node:os';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rows: { type: 'string' }, slots: { type: 'string' } } });
const kind = positionals[0] ?? 'io';
const KEY = 'tly_bench_slow_key_0123456789';
const ASYNC_IO = 'import asyncio\nasync def evaluate(messages, ground_truth=None, **kw):\n    await asyncio.sleep(0.2)\n    return 1.0\n';
const SYNC_IO = 'import time\ndef evaluate(messages, ground_truth=None, **kw):\n    time.sleep(0.2)\n    return 1.0\n';
// The model's code, run as a program of its own per row (a code-execution evaluator).
const PROCESS = [
  'import subprocess, sys',
  'PROGRAM = "print(sum(i * i for i in range(30000)))"',
  'def evaluate(messages, ground_truth=None, **kw):',
  '    out = subprocess.run([sys.executable, "-I", "-S", "-c", PROGRAM], capture_output=True, text=True, check=True).stdout',
  '    return 1.0 if out.strip() == str(sum(i * i for i in range(30000))) else 0.0',
  '',
].join('\n');

const dir = mkdtempSync(join(tmpdir(), 'tally-bench-slow-'));
chmodSync(dir, 0o711); // sandboxed evaluators (other uids) must traverse the data directory

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

async function until<T>(probe: () => Promise<T | undefined>, intervalMs: number): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function startServer(): Promise<{ base: string; stop: () => void }> {
  const env: Record<string, string | undefined> = {
    ...process.env, TALLY_DATA_DIR: join(dir, 'data'), TALLY_PORT: '0', TALLY_API_KEY: KEY, TALLY_ACCOUNT_ID: 'bench',
    TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'), TALLY_RATE_LIMIT_PER_MINUTE: '0',
  };
  if (values.slots) env['TALLY_WORKER_SLOTS'] = values.slots;
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'tally.mjs'), 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += String(chunk);
      const match = /listening on (\S+)/.exec(output);
      if (match) resolve({ base: match[1]!, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', () => reject(new Error(`server did not start: ${output}`)));
  });
}

function rowsFile(name: string, rows: number): string {
  const path = join(dir, name);
  writeFileSync(path, Array.from({ length: rows }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `row ${i}` }], ground_truth: String(i) })).join('\n') + '\n');
  return path;
}

const server = await startServer();
const a = '/v1/accounts/bench';

async function evaluator(id: string, code: string): Promise<void> {
  await api(server.base, 'POST', `${a}/evaluatorsV2`, { evaluatorId: id, evaluator: { criteria: [{ name: 'c', codeSnippets: { fileContents: { 'main.py': code } } }] } });
  await until(async () => ((await api(server.base, 'GET', `${a}/evaluators/${id}`))['state'] === 'ACTIVE' ? true : undefined), 50);
  // The build's processes are started in every slot as it finishes (prewarm): let them load.
  await new Promise((r) => setTimeout(r, 1500));
}

async function dataset(id: string, path: string): Promise<void> {
  await api(server.base, 'POST', `${a}/datasets`, { dataset: {}, datasetId: id });
  const form = new FormData();
  form.append('file', new Blob([execFileSync('cat', [path])]), 'rows.jsonl');
  await api(server.base, 'POST', `${a}/datasets/${id}:upload`, form);
}

/** Seconds from create to COMPLETED. */
async function timeJob(id: string, evaluatorId: string, datasetId: string, settings: object = {}): Promise<number> {
  const start = performance.now();
  await api(server.base, 'POST', `${a}/evaluationJobs`, { evaluationJobId: id, evaluationJob: { evaluator: `accounts/bench/evaluators/${evaluatorId}`, inputDataset: `accounts/bench/datasets/${datasetId}`, outputDataset: `accounts/bench/datasets/${id}-out`, settings } });
  const done = await until(async () => {
    const got = await api(server.base, 'GET', `${a}/evaluationJobs/${id}`);
    return ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(got['state']) ? got : undefined;
  }, 20);
  const seconds = (performance.now() - start) / 1000;
  if (done['state'] !== 'JOB_STATE_COMPLETED' || done['metrics']['score'] !== 1) throw new Error(`job ${id} ended ${done['state']}, score ${done['metrics']?.['score']}: ${JSON.stringify(done['status'])}`);
  return seconds;
}

try {
  const slots = values.slots ?? `default (${availableParallelism()} cores + 1)`;
  if (kind === 'io') {
    const rows = Number(values.rows ?? 1000);
    await dataset('rows', rowsFile('rows.jsonl', rows));
    await evaluator('async-io', ASYNC_IO);
    await evaluator('sync-io', SYNC_IO);
    const asyncSeconds = await timeJob('async', 'async-io', 'rows');
    const threadSeconds = await timeJob('threads', 'sync-io', 'rows', { evaluationThreads: 32 });
    console.log(`rows: ${rows}, 200 ms a row (one at a time: ${(rows * 0.2).toFixed(0)} s), worker slots: ${slots}`);
    console.log(`async evaluator (asyncio.sleep, maxConcurrentEvaluations 96): create -> COMPLETED ${asyncSeconds.toFixed(2)} s`);
    console.log(`sync evaluator (time.sleep, evaluationThreads 32):           create -> COMPLETED ${threadSeconds.toFixed(2)} s`);
  } else if (kind === 'process') {
    const rows = Number(values.rows ?? 2000);
    const data = rowsFile('rows.jsonl', rows);
    const file = join(dir, 'process.py');
    writeFileSync(file, PROCESS);
    // Asynchronously: a blocked event loop would miss the server closing idle keep-alive sockets.
    const baseline = async () => JSON.parse((await promisify(execFile)('/usr/bin/python3', [join(import.meta.dirname, 'baseline.py'), data, join(dir, 'baseline-out.jsonl'), file], { encoding: 'utf8' })).stdout) as { rows_per_second: number; seconds: number };
    await dataset('rows', data);
    await evaluator('process', PROCESS);
    // The machine's speed drifts: the baseline runs just before and just after the job.
    const before = await baseline();
    const seconds = await timeJob('process', 'process', 'rows');
    const after = await baseline();
    const cores = availableParallelism();
    const baseRate = (before.rows_per_second + after.rows_per_second) / 2;
    const rate = rows / seconds;
    console.log(`rows: ${rows}, a Python subprocess per row, worker slots: ${slots}, cores: ${cores}`);
    console.log(`baseline.py (one plain Python process): before ${before.seconds.toFixed(2)} s (${before.rows_per_second.toFixed(1)} rows/s), after ${after.seconds.toFixed(2)} s (${after.rows_per_second.toFixed(1)} rows/s)`);
    console.log(`tally job (create -> COMPLETED): ${seconds.toFixed(2)} s (${rate.toFixed(1)} rows/s)`);
    console.log(`ratio tally/baseline: ${(rate / baseRate).toFixed(2)}; per core: ${(rate / baseRate / cores).toFixed(2)} (the goal: at least 0.9 per core)`);
  } else {
    throw new Error(`unknown bench ${kind}: io or process`);
  }
} finally {
  server.stop();
}
