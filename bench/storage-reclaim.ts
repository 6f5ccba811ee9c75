/**
 * What the storage reclaim gives back and what it costs on SQLite: a database with live rows and
 * an orphan row set (a killed upload) three times their size, swept and compacted, once as a new
 * file (auto_vacuum INCREMENTAL: incremental_vacuum) and once as a file from before (auto_vacuum
 * off: one full VACUUM). Run: npx tsx bench/storage-reclaim.ts [live MB, default 40]
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { nowIso } from '../src/domain/types.js';
import { openStore, type Store } from '../src/store/index.js';

const LIVE_MB = Number(process.argv[2] ?? 40);
const ROW = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(1000) }] });
const MIB = 1024 * 1024;

function fileMiB(path: string): string {
  const size = [path, `${path}-wal`].reduce((sum, f) => sum + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
  return (size / MIB).toFixed(1);
}

async function fill(store: Store, megabytes: number): Promise<number> {
  const set = await store.rows.createSet('acme');
  const rows = Math.round((megabytes * MIB) / ROW.length);
  for (let at = 0; at < rows; at += 2000) await store.rows.append(set, at, Array.from({ length: Math.min(2000, rows - at) }, () => ROW));
  return set;
}

async function run(label: string, legacy: boolean): Promise<void> {
  const path = join(mkdtempSync(join(tmpdir(), 'tally-bench-reclaim-')), 'tally.db');
  if (legacy) new BetterSqlite3(path).exec('create table legacy (a)');
  let store = await openStore({ url: `sqlite:${path}` });
  await store.accounts.create({ id: 'acme', displayName: 'a', createTime: nowIso(), updateTime: nowIso() });
  const live = await fill(store, LIVE_MB);
  await store.datasets.create({
    accountId: 'acme', id: 'live', displayName: 'l', createdBy: 'k', createTime: nowIso(), updateTime: nowIso(), state: 'UPLOADING', status: { code: 'OK', message: '' },
    format: 'FORMAT_UNSPECIFIED', exampleCount: 0, averageTurnCount: 0, estimatedTokenCount: 0, origin: {}, rowSetId: null,
  });
  await store.datasets.commitRows('acme', 'live', { rowSetId: live, stats: { exampleCount: 0, format: 'FORMAT_UNSPECIFIED', averageTurnCount: 0, estimatedTokenCount: 0 }, updateTime: nowIso() });
  await store.close();
  store = await openStore({ url: `sqlite:${path}` });
  await fill(store, 3 * LIVE_MB);
  await store.close();
  const before = fileMiB(path);
  store = await openStore({ url: `sqlite:${path}` });
  const started = performance.now();
  const swept = await store.rows.sweepOrphans(new Date(Date.now() + 1000).toISOString());
  const sweptMs = performance.now() - started;
  const report = await store.reclaimSpace({ full: true });
  const reclaimMs = performance.now() - started - sweptMs;
  await store.close();
  console.log(
    `${label}: ${before} MiB on disk -> ${fileMiB(path)} MiB after; swept ${swept} row sets in ${(sweptMs / 1000).toFixed(2)} s, ` +
      `space given back in ${(reclaimMs / 1000).toFixed(2)} s (file ${(report!.fileBytesBefore / MIB).toFixed(1)} -> ${(report!.fileBytesAfter / MIB).toFixed(1)} MiB)`,
  );
}

await run('new file (incremental_vacuum)', false);
await run('older file (one full VACUUM)', true);
