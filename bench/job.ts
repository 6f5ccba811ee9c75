/**
 * bench/job: a trivial Python evaluator (score 1.0 when the last assistant message equals
 * ground_truth) over N rows through a real `tally serve` on SQLite: rows per second from create
 * to COMPLETED, the server's peak memory, and the latency from create to the first scored row
 * with a warm build; beside bench/baseline.py doing the same work in one Python process.
 *
 *   npx tsx bench/job.ts [--rows 100000] [--slots N] [--server-heap-mb MB] [--cpu-prof DIR]
 *
 * --cpu-prof writes the server's V8 CPU profile into DIR (open it in Chrome DevTools).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, slots: { type: 'string' }, 'server-heap-mb': { type: 'string' }, 'cpu-prof': { type: 'string' } } });
const ROWS = Number(values.rows);
const KEY = 'tly_bench_job_key_0123456789';
const EVALUATE = 'def evaluate(messages, ground_truth=None, **kwargs):\n    return {"score": 1.0 if messages[-1]["content"] == ground_truth else 0.0}\n';
const dir = mkdtempSync(join(tmpdir(), 'tally-bench-job-'));
// The server's data directory lives inside: sandboxed evaluators (other uids) must traverse it.
chmodSync(dir, 0o711);

function writeData(name: string, rows: number): string {
  const path = join(dir, name);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) lines.push(JSON.stringify({ messages: [{ role: 'user', content: `What is ${i} + 1?` }, { role: 'assistant', content: String(i % 3 ? i + 1 : i) }], ground_truth: String(i + 1) }));
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

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

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/** CPU seconds (user + system) used so far by a process, and by each of its live descendants. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function descendants(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** CPU seconds of each of the server's threads, summed by thread name (the main thread is the first). */
function threadCpu(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const name = Number(tid) === pid ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
  }
  return byName;
}

const sandboxCpu = (pid: number) => descendants(pid).reduce((sum, child) => sum + cpuSeconds(child), 0);

async function startServer(): Promise<{ base: string; pid: number; stop: () => Promise<void> }> {
  const env: Record<string, string | undefined> = {
    ...process.env, TALLY_DATA_DIR: join(dir, 'data'), TALLY_PORT: '0', TALLY_API_KEY: KEY, TALLY_ACCOUNT_ID: 'bench',
    TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'),
    // The latency probe polls every 2 ms: far past the default per-key rate limit.
    TALLY_RATE_LIMIT_PER_MINUTE: '0',
  };
  if (values.slots) env['TALLY_WORKER_SLOTS'] = values.slots;
  // A capped heap shows that memory is bounded, not merely collected late.
  if (values['server-heap-mb']) env['NODE_OPTIONS'] = `--max-old-space-size=${values['server-heap-mb']}`;
  const profile = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
  const child = spawn(process.execPath, [...profile, join(import.meta.dirname, '..', 'bin', 'tally.mjs'), 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  // Keep reading stdout after the start line: a closed pipe would make the server's next write fail.
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += String(chunk);
      const match = /listening on (\S+)/.exec(output);
      if (match) resolve({ base: match[1]!, pid: child.pid!, stop: () => stopChild(child) });
    });
    child.once('exit', () => reject(new Error(`server did not start: ${output}`)));
  });
}

/** Waits for the exit too: a CPU profile is written as the server exits. */
function stopChild(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Waits until the server and its sandboxes use under 2% of a core over 250 ms (at most 10 s). */
async function settled(pid: number): Promise<void> {
  const busy = () => cpuSeconds(pid) + sandboxCpu(pid);
  for (let tries = 0; tries < 40; tries++) {
    const before = busy();
    await new Promise((r) => setTimeout(r, 250));
    if (busy() - before < 0.005) return;
  }
}

async function until<T>(probe: () => Promise<T | undefined>, intervalMs: number): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const data = writeData('rows.jsonl', ROWS);
const evaluatorFile = join(dir, 'main.py');
writeFileSync(evaluatorFile, EVALUATE);
const runBaseline = () => JSON.parse(execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'baseline.py'), data, join(dir, 'baseline-out.jsonl'), evaluatorFile], { encoding: 'utf8' })) as { rows_per_second: number; seconds: number };
// This machine's speed drifts by a factor of two within a minute: the baseline runs just before
// and just after the job, and the ratio is against their mean.
const baselineBefore = runBaseline();

const server = await startServer();
try {
  const a = '/v1/accounts/bench';
  await api(server.base, 'POST', `${a}/evaluatorsV2`, { evaluatorId: 'exact', evaluator: { criteria: [{ name: 'exact', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } });
  await until(async () => ((await api(server.base, 'GET', `${a}/evaluators/exact`))['state'] === 'ACTIVE' ? true : undefined), 50);
  await api(server.base, 'POST', `${a}/datasets`, { dataset: {}, datasetId: 'rows' });
  const form = new FormData();
  form.append('file', new Blob([readFileSync(data)]), 'rows.jsonl');
  await api(server.base, 'POST', `${a}/datasets/rows:upload`, form);
  const job = (id: string, chunkRows = 1000) => ({ evaluationJobId: id, evaluationJob: { evaluator: `accounts/bench/evaluators/exact`, inputDataset: 'accounts/bench/datasets/rows', outputDataset: `accounts/bench/datasets/${id}-out`, settings: { chunkRows } } });

  const idle = rssMb(server.pid);
  // Sampled through the job: flat memory has the same range in its last quarter as in its first.
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssMb(server.pid)), 100);
  const cpuBefore = { server: cpuSeconds(server.pid), sandbox: sandboxCpu(server.pid), threads: threadCpu(server.pid) };
  const start = performance.now();
  await api(server.base, 'POST', `${a}/evaluationJobs`, job('big'));
  const done = await until(async () => {
    const got = await api(server.base, 'GET', `${a}/evaluationJobs/big`);
    return got['state'] === 'JOB_STATE_COMPLETED' || got['state'] === 'JOB_STATE_FAILED' ? got : undefined;
  }, 25);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  const cpu = { server: cpuSeconds(server.pid) - cpuBefore.server, sandbox: sandboxCpu(server.pid) - cpuBefore.sandbox };
  const threads = [...threadCpu(server.pid)].map(([name, seconds]) => [name, seconds - (cpuBefore.threads.get(name) ?? 0)] as const).filter(([, seconds]) => seconds >= 0.01);
  if (done['state'] !== 'JOB_STATE_COMPLETED') throw new Error(`job ended ${done['state']}: ${JSON.stringify(done['status'])}`);

  // The server checkpoints and collects garbage for a while after a job: let it settle first.
  await settled(server.pid);
  const baselineAfter = runBaseline();

  // Latency through the whole path (create, lease, sandbox, write) on a small dataset: 10-row
  // chunks over the big one would time the recording of its chunks instead.
  await api(server.base, 'POST', `${a}/datasets`, { dataset: {}, datasetId: 'probe' });
  const probe = new FormData();
  probe.append('file', new Blob([readFileSync(writeData('probe.jsonl', 100))]), 'probe.jsonl');
  await api(server.base, 'POST', `${a}/datasets/probe:upload`, probe);
  const latencyStart = performance.now();
  await api(server.base, 'POST', `${a}/evaluationJobs`, { ...job('first', 10), evaluationJob: { ...job('first', 10).evaluationJob, inputDataset: 'accounts/bench/datasets/probe' } });
  const createdMs = performance.now() - latencyStart;
  await until(async () => ((await api(server.base, 'GET', `${a}/evaluationJobs/first:listResults?pageSize=1`))['totalSize'] > 0 ? true : undefined), 2);
  const latencyMs = performance.now() - latencyStart;
  // The probe's 100 rows may all be scored by now: a job that already ended needs no cancel.
  await api(server.base, 'POST', `${a}/evaluationJobs/first:cancel`, {}).catch((error: unknown) => {
    if (!/is already JOB_STATE_/.test(String(error))) throw error;
  });

  const baselineRate = (baselineBefore.rows_per_second + baselineAfter.rows_per_second) / 2;
  const tallyRate = ROWS / seconds;
  console.log(`rows: ${ROWS}, evaluator: exact match (legacy evaluate), store: sqlite, worker slots: ${values.slots ?? 'default (cores + 1)'}`);
  const describe = (b: { seconds: number; rows_per_second: number }) => `${b.seconds.toFixed(2)} s, ${Math.round(b.rows_per_second)} rows/s`;
  console.log(`baseline.py (one Python process, JSONL in/out): before ${describe(baselineBefore)}; after ${describe(baselineAfter)}`);
  console.log(`tally job (create -> COMPLETED):               ${seconds.toFixed(2)} s, ${Math.round(tallyRate)} rows/s`);
  console.log(`ratio tally/baseline: ${(tallyRate / baselineRate).toFixed(2)} (against the mean of the two baseline runs; ${(tallyRate / baselineBefore.rows_per_second).toFixed(2)} and ${(tallyRate / baselineAfter.rows_per_second).toFixed(2)} against each)`);
  console.log(`CPU during the job: server ${cpu.server.toFixed(2)} s (all its threads), sandbox processes ${cpu.sandbox.toFixed(2)} s`);
  console.log(`  by server thread: ${threads.map(([name, seconds]) => `${name} ${seconds.toFixed(2)} s`).join(', ')}`);
  const peak = Math.max(idle, ...samples);
  const quarters = [0, 1, 2, 3].map((q) => samples.slice(Math.floor((q * samples.length) / 4), Math.floor(((q + 1) * samples.length) / 4))).filter((part) => part.length > 0);
  const range = (part: number[]) => `${Math.min(...part).toFixed(0)}-${Math.max(...part).toFixed(0)}`;
  console.log(`server RSS: idle ${idle.toFixed(0)} MB, peak during the job ${peak.toFixed(0)} MB; by quarter of the job (min-max MB): ${quarters.map(range).join(', ')}`);
  console.log(`create -> first scored row (warm build, warm process): ${latencyMs.toFixed(0)} ms (the create call itself: ${createdMs.toFixed(0)} ms)`);
  console.log(`metrics: score ${done['metrics']['score']}, rows ${done['metrics']['row_count']}`);
} finally {
  await server.stop();
}
