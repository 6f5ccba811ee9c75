/**
 * bench/export-csv: a finished N-row job (default 1,000,000) exported as CSV over HTTP through a
 * real server on SQLite: `:listResults?format=csv` in row order, and the output dataset's CSV
 * download. Prints the time, rows per second and bytes of each, and the server's heap and RSS
 * sampled while it streams (flat memory: the peak stays near the start however many rows).
 *
 *   npx tsx bench/export-csv.ts [--rows 1000000]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { mulberry32 } from '../src/domain/metrics.js';
import { nowIso } from '../src/domain/types.js';
import { startServer } from '../src/server.js';
import { openStore } from '../src/store/index.js';
import { finishedJob, inputRows } from './written-jobs.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } });
const ROWS = Number(values.rows);
const dir = mkdtempSync(join(tmpdir(), 'tally-bench-csv-'));
const url = `sqlite:${join(dir, 'tally.db')}`;

async function writeJob(): Promise<void> {
  const store = await openStore({ url });
  await store.accounts.create({ id: 'bench', displayName: 'bench', createTime: nowIso(), updateTime: nowIso() });
  const input = await inputRows(store, ROWS);
  const random = mulberry32(5);
  await finishedJob(store, { id: 'job', input, rows: ROWS }, () => (random() < 0.7 ? 1 : 0));
  await store.close();
}

/** Streams `response`'s body, counting bytes and lines, sampling memory every 100 ms. */
async function drain(response: Response): Promise<{ bytes: number; lines: number; peakRssMb: number; peakHeapMb: number }> {
  let [bytes, lines, peakRss, peakHeap] = [0, 0, 0, 0];
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 100);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines++;
  }
  clearInterval(sample);
  return { bytes, lines, peakRssMb: peakRss / 1024 ** 2, peakHeapMb: peakHeap / 1024 ** 2 };
}

async function main(): Promise<void> {
  const setup = performance.now();
  await writeJob();
  console.log(`setup: a ${ROWS}-row job written in ${((performance.now() - setup) / 1000).toFixed(1)} s`);
  const server = await startServer(loadConfig({ env: {}, flags: { dataDir: dir, database: url, port: 0, accountId: 'bench', apiKey: 'tly_bench_csv_key_0123456789', inProcessWorker: false } }));
  const headers = { authorization: 'Bearer tly_bench_csv_key_0123456789' };
  global.gc?.();
  const m = process.memoryUsage();
  console.log(`server in this process, before: rss ${(m.rss / 1024 ** 2).toFixed(0)} MiB, heap ${(m.heapUsed / 1024 ** 2).toFixed(0)} MiB`);
  const measure = async (label: string, target: string) => {
    const start = performance.now();
    const response = await fetch(target, { headers });
    if (!response.ok) throw new Error(`${label}: ${response.status} ${await response.text()}`);
    const d = await drain(response);
    const seconds = (performance.now() - start) / 1000;
    console.log(`${label.padEnd(34)} ${seconds.toFixed(1)} s, ${Math.round((d.lines - 1) / seconds)} rows/s, ${(d.bytes / 1024 ** 2).toFixed(0)} MiB, ${d.lines - 1} rows; peak rss ${d.peakRssMb.toFixed(0)} MiB, heap ${d.peakHeapMb.toFixed(0)} MiB`);
  };
  await measure(':listResults?format=csv', `${server.url}/v1/accounts/bench/evaluationJobs/job:listResults?format=csv`);
  // The output dataset: the bench's job wrote rows but not its dataset record; make one to download.
  const store = await openStore({ url });
  const job = (await store.jobs.get('bench', 'job'))!;
  await store.datasets.create({
    accountId: 'bench', id: 'job-out', displayName: 'job-out', createdBy: 'bench', createTime: nowIso(), updateTime: nowIso(), state: 'UPLOADING', status: { code: 'OK', message: '' },
    format: 'FORMAT_UNSPECIFIED', exampleCount: 0, averageTurnCount: 0, estimatedTokenCount: 0, origin: { evaluationResult: { evaluationJobId: 'job' } }, rowSetId: null,
  });
  await store.datasets.commitRows('bench', 'job-out', { rowSetId: job.outputRowSetId, stats: { exampleCount: ROWS, format: 'FORMAT_UNSPECIFIED', averageTurnCount: 0, estimatedTokenCount: 0 }, updateTime: nowIso() });
  await store.close();
  const endpoint = (await (await fetch(`${server.url}/v1/accounts/bench/datasets/job-out:getDownloadEndpoint?format=csv`, { headers })).json()) as { filenameToSignedUrls: Record<string, string> };
  await measure('output dataset download as CSV', Object.values(endpoint.filenameToSignedUrls)[0]!);
  const jsonl = (await (await fetch(`${server.url}/v1/accounts/bench/datasets/job-out:getDownloadEndpoint`, { headers })).json()) as { filenameToSignedUrls: Record<string, string> };
  await measure('(the same download as JSONL)', Object.values(jsonl.filenameToSignedUrls)[0]!);
  await server.close();
}

await main();
