import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { createKyselyStore, migrateToLatest } from '../kysely-store.js';
import type { Store } from '../port.js';
import type { Database } from '../schema.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';

/** Prepared statements kept per SQL text: hot queries (row batches) are prepared once. */
const STATEMENT_CACHE_SIZE = 64;

export async function openSqliteStore(path: string): Promise<Store> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  const handle = new BetterSqlite3(path);
  // Private to the server's user; SQLite gives the -wal and -shm files the same mode.
  if (path !== ':memory:') chmodSync(path, 0o600);
  handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = NORMAL');
  handle.pragma('busy_timeout = 5000');
  handle.pragma('foreign_keys = ON');
  // A 32 MiB threshold: normally the checkpoint thread has copied the WAL long before.
  handle.pragma('wal_autocheckpoint = 8192');
  const checkpointer = path === ':memory:' ? undefined : startCheckpointer(path);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(handle, checkpointer) }) });
  await migrateToLatest(db, 'sqlite');
  return createKyselyStore(db, 'sqlite');
}

function withStatementCache(handle: BetterSqlite3.Database, checkpointer?: Checkpointer): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      handle.close();
      return checkpointer?.close();
    },
    prepare(sql: string): SqliteStatement {
      const hit = cache.get(sql);
      if (hit) return hit;
      const statement = handle.prepare(sql) as unknown as SqliteStatement;
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(sql, statement);
      return statement;
    },
  };
}
