import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { createKyselyStore, migrateToLatest } from '../kysely-store.js';
import type { Store } from '../port.js';
import type { Database } from '../schema.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { startChunkWriter, type ChunkWriter } from './chunk-writer.js';
import { reclaimSqliteSpace } from './space.js';

/** Prepared statements kept per SQL text: hot queries (row batches) are prepared once. */
const STATEMENT_CACHE_SIZE = 64;

export async function openSqliteStore(path: string): Promise<Store> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  const handle = new BetterSqlite3(path);
  // Private to the server's user; SQLite gives the -wal and -shm files the same mode.
  if (path !== ':memory:') chmodSync(path, 0o600);
  // Only takes on a new, empty file: deleted rows then give their pages back (space.ts).
  handle.pragma('auto_vacuum = INCREMENTAL');
  handle.pragma('journal_mode = WAL');
  for (const pragma of CONNECTION_PRAGMAS) handle.pragma(pragma);
  const threads: (ChunkWriter | Checkpointer)[] = [];
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(handle, threads) }) });
  await migrateToLatest(db, 'sqlite');
  // An in-memory database is private to its connection: its chunks are written on this thread.
  const reclaimSpace = (options: { full: boolean }) => reclaimSqliteSpace(handle, options);
  if (path === ':memory:') return createKyselyStore(db, 'sqlite', { reclaimSpace });
  // The writer prepares its statements as it starts: only once the schema is up to date.
  const writer = startChunkWriter(path, CONNECTION_PRAGMAS);
  threads.push(writer, startCheckpointer(path));
  return createKyselyStore(db, 'sqlite', { jobWrites: writer, reclaimSpace });
}

/** Settings of every connection to the file (the main one and the chunk writer's). */
const CONNECTION_PRAGMAS = [
  'synchronous = NORMAL',
  'busy_timeout = 5000',
  'foreign_keys = ON',
  // A 32 MiB threshold: normally the checkpoint thread has copied the WAL long before.
  'wal_autocheckpoint = 8192',
];

/**
 * With two connections writing (this one and the chunk writer's), a deferred transaction that
 * read first could be refused the write lock at its first write (SQLITE_BUSY, without waiting):
 * every transaction takes the lock as it begins instead, waiting for it under busy_timeout.
 */
const BEGIN = 'begin immediate';

/** The connection's threads (writer, checkpointer) close with it, after any write in flight. */
function withStatementCache(handle: BetterSqlite3.Database, threads: readonly (ChunkWriter | Checkpointer)[]): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: async () => {
      for (const thread of threads) await thread.close();
      handle.close();
    },
    prepare(text: string): SqliteStatement {
      const sql = text === 'begin' ? BEGIN : text;
      const hit = cache.get(sql);
      if (hit) return hit;
      const statement = handle.prepare(sql) as unknown as SqliteStatement;
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(sql, statement);
      return statement;
    },
  };
}
