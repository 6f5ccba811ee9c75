import type BetterSqlite3 from 'better-sqlite3';
import type { SpaceReport } from '../port.js';

/** A full VACUUM pays only when this much of the file is free pages (it rewrites the whole file). */
const VACUUM_FREE_SHARE = 0.25;
const VACUUM_MIN_FREE_BYTES = 16 * 1024 * 1024;
const AUTO_VACUUM_INCREMENTAL = 2;

/**
 * Gives free pages back to the file system. New databases are created with
 * `auto_vacuum = INCREMENTAL`, so a periodic `incremental_vacuum` truncates the file as rows are
 * dropped, a cheap write. Older files (auto_vacuum off) get one full VACUUM when `full` is allowed
 * (at start, before anything else uses the database) and enough of the file is free: that both
 * compacts them and switches them to incremental mode. The WAL is truncated after, since a VACUUM
 * writes the whole database through it.
 */
export async function reclaimSqliteSpace(handle: BetterSqlite3.Database, { full }: { full: boolean }): Promise<SpaceReport> {
  const before = pages(handle);
  const freeBytes = before.free * before.pageSize;
  const autoVacuum = Number(handle.pragma('auto_vacuum', { simple: true }));
  if (autoVacuum === AUTO_VACUUM_INCREMENTAL) {
    handle.pragma('incremental_vacuum');
  } else if (full && freeBytes >= VACUUM_MIN_FREE_BYTES && before.free >= before.count * VACUUM_FREE_SHARE) {
    handle.pragma('auto_vacuum = INCREMENTAL');
    handle.exec('VACUUM');
  }
  if (pages(handle).count !== before.count) await truncateWal(handle);
  const after = pages(handle);
  return { fileBytesBefore: before.count * before.pageSize, fileBytesAfter: after.count * after.pageSize, freeBytesAfter: after.free * after.pageSize };
}

/**
 * A TRUNCATE checkpoint gives up (busy) while another connection (the checkpoint thread, the chunk
 * writer) is reading or checkpointing: retried a while, since until it succeeds neither the file
 * nor its WAL shrinks.
 */
async function truncateWal(handle: BetterSqlite3.Database): Promise<void> {
  for (let attempt = 0; attempt < CHECKPOINT_ATTEMPTS; attempt++) {
    const [result] = handle.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    if (!result || result.busy === 0) return;
    await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_RETRY_MS));
  }
}

const CHECKPOINT_ATTEMPTS = 40;
const CHECKPOINT_RETRY_MS = 50;

function pages(handle: BetterSqlite3.Database): { count: number; free: number; pageSize: number } {
  return {
    count: Number(handle.pragma('page_count', { simple: true })),
    free: Number(handle.pragma('freelist_count', { simple: true })),
    pageSize: Number(handle.pragma('page_size', { simple: true })),
  };
}
