/**
 * bench/compare: `:compare` of two finished N-row jobs over the same input rows (default
 * 1,000,000), on SQLite. The jobs' results are written straight through the Store (as the
 * worker writes them, a chunk of 1,000 rows per transaction) rather than scored by an
 * evaluator, so the figure is the comparison's own cost. Prints the time of the first summary
 * (reads both jobs' results and computes everything), a repeated summary, the first page of the
 * default view (regressions first), a page deep into it, a first page of another view (filtered,
 * sorted on demand), a page with both output rows (view=FULL), and the heap it keeps.
 *
 *   npx tsx bench/compare.ts [--rows 1000000] [--database sqlite:/path.db]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/domain/metrics.js';
import { nowIso } from '../src/domain/types.js';
import { createComparisonService } from '../src/services/comparisons.js';
import { openStore } from '../src/store/index.js';
import { finishedJob, inputRows } from './written-jobs.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, database: { type: 'string' } } });
const ROWS = Number(values.rows);
const url = values.database ?? `sqlite:${join(mkdtempSync(join(tmpdir(), 'tally-bench-compare-')), 'tally.db')}`;

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await run();
  console.log(`${label.padEnd(44)} ${(performance.now() - start).toFixed(1).padStart(9)} ms`);
  return value;
}

async function main(): Promise<void> {
  const store = await openStore({ url });
  await store.accounts.create({ id: 'bench', displayName: 'bench', createTime: nowIso(), updateTime: nowIso() });
  const setupStart = performance.now();
  const input = await inputRows(store, ROWS);
  const random = mulberry32(1);
  const base = Array.from({ length: ROWS }, () => (random() < 0.6 ? 1 : 0));
  // The candidate differs on about 10% of rows, improving a little more often than it regresses.
  const cand = base.map((b) => (random() < 0.1 ? (random() < 0.55 ? 1 : 0) : b));
  await finishedJob(store, { id: 'baseline', input, rows: ROWS }, (i) => base[i]!);
  await finishedJob(store, { id: 'candidate', input, rows: ROWS }, (i) => cand[i]!);
  console.log(`setup: two ${ROWS}-row jobs written in ${((performance.now() - setupStart) / 1000).toFixed(1)} s (${url})`);

  const comparisons = createComparisonService(store);
  const request = { baseline: 'baseline', statuses: [], order: 'diff' as const, pageSize: 50, withRows: false };
  global.gc?.();
  const memory = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const heapBefore = memory();
  const summary = await timed('summary, first (reads and computes)', () => comparisons.summary('bench', 'candidate', request));
  await timed('summary, again', () => comparisons.summary('bench', 'candidate', request));
  const first = await timed('page 1 of the default view (regressions first)', () => comparisons.page('bench', 'candidate', request));
  await timed('page 2', () => comparisons.page('bench', 'candidate', { ...request, pageToken: first.nextPageToken }));
  await timed('first page of status=improved, diff desc', () => comparisons.page('bench', 'candidate', { ...request, statuses: ['improved'], order: 'diff desc' }));
  await timed('first page of orderBy=index', () => comparisons.page('bench', 'candidate', { ...request, order: 'index' }));
  await timed('page 1 with both output rows (view=FULL)', () => comparisons.page('bench', 'candidate', { ...request, withRows: true }));
  global.gc?.();
  console.log(`memory kept by the comparison (heap + array buffers): ${((memory() - heapBefore) / 1024 ** 2).toFixed(0)} MiB`);
  console.log(`summary: ${JSON.stringify({ counts: summary.counts, score: summary.score })}`);
  await store.close();
}

await main();
