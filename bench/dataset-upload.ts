/**
 * bench/dataset-upload: uploads and downloads a large JSONL dataset through a real `tally serve`
 * process and prints rows per second and the server's memory (resident set, sampled every 100 ms).
 *
 *   npx tsx bench/dataset-upload.ts [--rows 1000000] [--database postgres://...]
 */
import { spawn } from 'node:child_process';
import { chmodSync, createReadStream, createWriteStream, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, database: { type: 'string' } } });
const ROWS = Number(values.rows);
const dir = mkdtempSync(join(tmpdir(), 'tally-bench-'));
// The server's data directory lives inside: sandboxed evaluators (other uids) must traverse it.
chmodSync(dir, 0o711);

async function writeDataset(path: string): Promise<number> {
  const out = createWriteStream(path);
  for (let i = 0; i < ROWS; i++) {
    const line = `{"messages":[{"role":"user","content":"What is ${i} plus ${i}? Answer with a number."},{"role":"assistant","content":"${2 * i}"}],"ground_truth":"${2 * i}"}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return statSync(path).size;
}

async function startServer(): Promise<{ url: string; pid: number; stop: () => void }> {
  const key = 'tly_bench_key_0123456789abcdef';
  const env: Record<string, string | undefined> = { ...process.env, TALLY_DATA_DIR: join(dir, 'data'), TALLY_PORT: '0', TALLY_API_KEY: key, TALLY_ACCOUNT_ID: 'bench' };
  if (values.database) env['TALLY_DATABASE_URL'] = values.database;
  const child = spawn(join(import.meta.dirname, '..', 'bin', 'tally'), ['serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  // Keep reading stdout after the start line: a closed pipe would make the server's next write fail.
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += String(chunk);
      const match = /listening on (\S+)/.exec(output);
      // bin/tally execs node, so the child's pid is the server's own.
      if (match) resolve({ url: match[1]!, pid: child.pid!, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', () => reject(new Error(`server did not start: ${output}`)));
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function sampleMemory(pid: number) {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
  return { stop: () => (clearInterval(timer), Math.max(peak, rssMb(pid))) };
}

async function api(url: string, path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${path}`, { ...init, headers: { authorization: 'Bearer tly_bench_key_0123456789abcdef', ...init.headers } });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function uploadSigned(url: string, file: string, size: number): Promise<void> {
  await api(url, '/v1/accounts/bench/datasets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: {}, datasetId: 'big' }) });
  const endpoint = await api(url, '/v1/accounts/bench/datasets/big:getUploadEndpoint', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filenameToSize: { 'big.jsonl': String(size) } }),
  });
  const signed = (endpoint['filenameToSignedUrls'] as Record<string, string>)['big.jsonl']!;
  const put = await fetch(signed, {
    method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body: createReadStream(file, { highWaterMark: 1 << 20 }) as unknown as BodyInit, duplex: 'half',
  } as RequestInit);
  if (!put.ok) throw new Error(`PUT: ${put.status} ${await put.text()}`);
  await api(url, '/v1/accounts/bench/datasets/big:validateUpload', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
}

async function download(url: string): Promise<{ rows: number; bytes: number }> {
  const endpoint = await api(url, '/v1/accounts/bench/datasets/big:getDownloadEndpoint');
  const signed = Object.values(endpoint['filenameToSignedUrls'] as Record<string, string>)[0]!;
  const response = await fetch(signed);
  let rows = 0;
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
  }
  return { rows, bytes };
}

const file = join(dir, 'big.jsonl');
const size = await writeDataset(file);
const server = await startServer();
try {
  const idle = rssMb(server.pid);
  let memory = sampleMemory(server.pid);
  let start = performance.now();
  await uploadSigned(server.url, file, size);
  const uploadSeconds = (performance.now() - start) / 1000;
  const uploadPeak = memory.stop();

  memory = sampleMemory(server.pid);
  start = performance.now();
  const got = await download(server.url);
  const downloadSeconds = (performance.now() - start) / 1000;
  const downloadPeak = memory.stop();
  if (got.rows !== ROWS || got.bytes !== size) throw new Error(`download mismatch: ${got.rows} rows, ${got.bytes} bytes`);

  const mb = (size / 1024 ** 2).toFixed(0);
  console.log(`dataset: ${ROWS} rows, ${mb} MB JSONL, store ${values.database ? 'postgres' : 'sqlite'}`);
  console.log(`upload   (PUT + validate): ${uploadSeconds.toFixed(2)} s, ${Math.round(ROWS / uploadSeconds)} rows/s`);
  console.log(`download (signed GET):     ${downloadSeconds.toFixed(2)} s, ${Math.round(ROWS / downloadSeconds)} rows/s`);
  console.log(`server RSS: idle ${idle.toFixed(0)} MB, peak during upload ${uploadPeak.toFixed(0)} MB, during download ${downloadPeak.toFixed(0)} MB (file ${mb} MB)`);
} finally {
  server.stop();
}
