// Fresh, empty databases for tests: a new SQLite file or a new PostgreSQL database per call.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { inject } from 'vitest';

export const STORE_KINDS = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** Databases created on the test server are named t_<hex>; dropAllTestDatabases removes them. */
const TEST_DATABASE_PREFIX = 't_';

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withClient<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A URL for a new, empty database of the given kind:
 * - sqlite: `sqlite:/abs/path/tally.db` in a new temporary directory (the file does not exist yet);
 * - postgres: `postgresql://…/t_<random>`, created on the server the global setup provides.
 */
export async function freshDatabaseUrl(kind: StoreKind): Promise<string> {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'tally-sqlite-'));
    return `sqlite:${join(dir, 'tally.db')}`;
  }
  const serverUrl = inject('postgresUrl');
  const name = `${TEST_DATABASE_PREFIX}${randomBytes(8).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  return withDatabase(serverUrl, name);
}

/** Drops every t_<hex> database on the server (used at teardown when the server is not throwaway). */
export async function dropAllTestDatabases(serverUrl: string): Promise<void> {
  await withClient(serverUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname ~ '^t_[0-9a-f]{16}$'",
    );
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
  });
}

/** Runs one statement on a test database behind the store's back (to stage an older layout). */
export async function execSql(url: string, statement: string): Promise<void> {
  if (url.startsWith('sqlite:')) {
    const db = new BetterSqlite3(url.slice('sqlite:'.length));
    try {
      db.exec(statement);
    } finally {
      db.close();
    }
    return;
  }
  await withClient(url, (client) => client.query(statement));
}
