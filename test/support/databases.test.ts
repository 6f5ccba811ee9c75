import { existsSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { STORE_KINDS, freshDatabaseUrl } from './databases.js';

describe('freshDatabaseUrl', () => {
  it('lists both store kinds', () => {
    expect(STORE_KINDS).toEqual(['sqlite', 'postgres']);
  });

  it('sqlite: gives a new file path in a new directory that stores and reads rows', async () => {
    const url = await freshDatabaseUrl('sqlite');
    expect(url).toMatch(/^sqlite:\/.+\/tally\.db$/);
    const path = url.slice('sqlite:'.length);
    expect(isAbsolute(path)).toBe(true);
    expect(existsSync(dirname(path))).toBe(true);
    expect(existsSync(path)).toBe(false);

    const db = new Database(path);
    try {
      db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
      db.prepare('INSERT INTO items (name) VALUES (?)').run('first');
      expect(db.prepare('SELECT id, name FROM items').all()).toEqual([{ id: 1, name: 'first' }]);
    } finally {
      db.close();
    }
    expect(await freshDatabaseUrl('sqlite')).not.toBe(url);
  });

  it('postgres: creates a new, empty database that stores and reads rows', async () => {
    const url = await freshDatabaseUrl('postgres');
    expect(url).toMatch(/^postgres(ql)?:\/\/.+\/t_[0-9a-f]{16}$/);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows: tables } = await client.query(
        "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(tables).toEqual([{ n: 0 }]);
      await client.query('CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL)');
      await client.query('INSERT INTO items (name) VALUES ($1)', ['first']);
      const { rows } = await client.query('SELECT id, name FROM items');
      expect(rows).toEqual([{ id: 1, name: 'first' }]);
      const { rows: current } = await client.query<{ db: string }>('SELECT current_database() AS db');
      expect(url.endsWith(`/${current[0]?.db}`)).toBe(true);
    } finally {
      await client.end();
    }
    const other = await freshDatabaseUrl('postgres');
    expect(other).not.toBe(url);
  });
});
