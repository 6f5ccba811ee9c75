// listPage against real databases: SQLite in memory always, and PostgreSQL too when
// TALLY_TEST_DATABASE_URL names a server (in a fresh schema that is dropped afterwards).
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../domain/errors.js';
import type { ListFields } from '../domain/listing.js';
import { listPage, type ListPageParams } from './listing.js';

// The test tables are created at run time, so the database is untyped.
type Db = Kysely<any>;

interface Item {
  account_id: string;
  id: string;
  name: string;
  state: string;
  create_time: string;
  count: number;
  score: number;
  active: number;
}

const FIELDS: ListFields = {
  itemId: { column: 'id', type: 'string' },
  name: { column: 'name', type: 'string' },
  state: { column: 'state', type: 'enum', values: ['READY', 'FAILED', 'PENDING'] },
  createTime: { column: 'create_time', type: 'timestamp' },
  count: { column: 'count', type: 'number' },
  score: { column: 'score', type: 'number' },
  active: { column: 'active', type: 'boolean' },
};
const ORDERABLE = ['name', 'state', 'createTime', 'count', 'score', 'active', 'itemId'];

interface Backend {
  name: string;
  open(): Promise<{ db: Db; close(): Promise<void> }>;
}

const sqliteBackend: Backend = {
  name: 'sqlite',
  async open() {
    const db: Db = new Kysely({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
    return { db, close: () => db.destroy() };
  },
};

function postgresBackend(url: string): Backend {
  return {
    name: 'postgres',
    async open() {
      const schema = `t_listing_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      const pool = new pg.Pool({ connectionString: url, max: 4, options: `-c search_path=${schema}` });
      const db: Db = new Kysely({ dialect: new PostgresDialect({ pool }) });
      const close = async () => {
        await db.destroy();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      };
      return { db, close };
    },
  };
}

const postgresUrl = process.env['TALLY_TEST_DATABASE_URL'];
const BACKENDS = [sqliteBackend, ...(postgresUrl ? [postgresBackend(postgresUrl)] : [])];

/** A small deterministic PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const NAMES = ['alpha', 'Alpha', 'beta', 'BETA', 'gamma', '100%', 'a_c', 'abc', 'x!y', 'zeta'];

function makeItems(accountId: string, count: number, seed: number, prefix = 'i'): Item[] {
  const random = prng(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  return Array.from({ length: count }, (_, i) => ({
    account_id: accountId,
    id: `${prefix}${String(i).padStart(4, '0')}`,
    name: pick(NAMES),
    state: pick(['READY', 'FAILED', 'PENDING']),
    create_time: new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 40) * 1_000_123).toISOString(),
    count: Math.floor(random() * 10),
    score: Math.floor(random() * 8) / 2,
    active: random() < 0.5 ? 0 : 1,
  }));
}

async function createTable(db: Db, table: string): Promise<void> {
  await db.schema
    .createTable(table)
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('create_time', 'text', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint(`${table}_pk`, ['account_id', 'id'])
    .execute();
}

type Request = ListPageParams['request'];

function params(table: string, request: Request): ListPageParams {
  return { table, scope: { account_id: 'a' }, idColumn: 'id', fields: FIELDS, request };
}

/** Follows nextPageToken to the end; `between` runs after each page (e.g. to insert rows). */
async function pageThrough(
  db: Db,
  table: string,
  request: Request,
  between?: () => Promise<void>,
): Promise<{ ids: string[]; totalSizes: number[]; pages: number }> {
  const ids: string[] = [];
  const totalSizes: number[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const page = await listPage<Item>(db, params(table, { ...request, pageToken }));
    ids.push(...page.rows.map((row) => row.id));
    totalSizes.push(page.totalSize);
    pageToken = page.nextPageToken || undefined;
    pages++;
    if (pages > 1000) throw new Error('runaway pagination');
    if (pageToken !== undefined) await between?.();
  } while (pageToken !== undefined);
  return { ids, totalSizes, pages };
}

/** The same order computed by one plain query: the reference the pages must reproduce. */
async function referenceIds(db: Db, table: string, orderBy: [string, boolean][]): Promise<string[]> {
  let query = db.selectFrom(table).select('id').where('account_id', '=', 'a');
  for (const [field, desc] of orderBy) query = query.orderBy(FIELDS[field]!.column, desc ? 'desc' : 'asc');
  const rows = (await query.orderBy('id', 'asc').execute()) as { id: string }[];
  return rows.map((row) => row.id);
}

function orderText(terms: [string, boolean][]): string {
  return terms.map(([field, desc]) => (desc ? `${field} desc` : field)).join(', ');
}

async function expectInvalid(promise: Promise<unknown>, message: string | RegExp): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isApiError(err) && err.code === 'INVALID_ARGUMENT').toBe(true);
  expect((err as Error).message).toMatch(message);
}

describe.each(BACKENDS)('listPage on $name', (backend) => {
  let db: Db;
  let close: () => Promise<void>;
  const items = makeItems('a', 300, 7);

  beforeAll(async () => {
    ({ db, close } = await backend.open());
    await createTable(db, 'items');
    await db.insertInto('items').values(items).execute();
    await db.insertInto('items').values(makeItems('b', 20, 9)).execute();
  });
  afterAll(async () => close?.());

  it('defaults to 50 rows ordered by id and counts every row of the scope', async () => {
    const page = await listPage<Item>(db, params('items', {}));
    expect(page.rows.map((r) => r.id)).toEqual(items.slice(0, 50).map((i) => i.id));
    expect(page.totalSize).toBe(300);
    expect(page.nextPageToken).not.toBe('');
    const big = await listPage<Item>(db, params('items', { pageSize: 5000 }));
    expect(big.rows).toHaveLength(200);
    const all = await pageThrough(db, 'items', { pageSize: 150 });
    expect(all.pages).toBe(2);
  });

  it('visits every row exactly once, in order, for every orderBy of one or two fields', async () => {
    const orders: [string, boolean][][] = [];
    for (const a of ORDERABLE) {
      for (const desc of [false, true]) orders.push([[a, desc]]);
      for (const b of ORDERABLE.filter((f) => f !== a)) {
        for (const [da, db2] of [[false, false], [false, true], [true, false], [true, true]] as const) {
          orders.push([[a, da], [b, db2]]);
        }
      }
    }
    orders.push([['state', true], ['active', false], ['score', true], ['createTime', false]]);
    orders.push([['count', false], ['name', true], ['itemId', true], ['score', false]]);
    for (const order of orders) {
      const { ids, totalSizes } = await pageThrough(db, 'items', { orderBy: orderText(order), pageSize: 37 });
      expect(ids, orderText(order)).toEqual(await referenceIds(db, 'items', order));
      expect(new Set(totalSizes)).toEqual(new Set([300]));
    }
  });

  const FILTERS: [string, (item: Item) => boolean][] = [
    ['name = "Alpha"', (i) => i.name === 'Alpha'],
    ['name != alpha', (i) => i.name !== 'alpha'],
    ['name : "lph"', (i) => i.name.includes('lph')],
    ['name : "A"', (i) => i.name.includes('A')],
    ['name : "%"', (i) => i.name.includes('%')],
    ['name : "_"', (i) => i.name.includes('_')],
    ['name : "!"', (i) => i.name.includes('!')],
    ['name : ""', () => true],
    ['name > "beta"', (i) => i.name > 'beta' && !/[A-Z%_!]/.test(i.name)],
    ['state = READY', (i) => i.state === 'READY'],
    ['state != FAILED', (i) => i.state !== 'FAILED'],
    ['createTime > "2026-01-01T05:00:00Z"', (i) => i.create_time > '2026-01-01T05:00:00.000Z'],
    ['createTime <= 2026-01-01T03:00:00+01:00', (i) => i.create_time <= '2026-01-01T02:00:00.000Z'],
    ['count >= 5', (i) => i.count >= 5],
    ['count = 3', (i) => i.count === 3],
    ['count > 2.5', (i) => i.count > 2.5],
    ['count < 3000000000', () => true],
    ['score > 1.5', (i) => i.score > 1.5],
    ['score = 2', (i) => i.score === 2],
    ['active = true', (i) => i.active === 1],
    ['active = false', (i) => i.active === 0],
    ['NOT active = true', (i) => i.active !== 1],
    ['state = READY AND count < 3 OR count > 7', (i) => i.state === 'READY' && (i.count < 3 || i.count > 7)],
    ['(state = READY AND count < 3) OR -count <= 7', (i) => (i.state === 'READY' && i.count < 3) || i.count > 7],
    ['itemId = i0042', (i) => i.id === 'i0042'],
    ['itemId = nothing', () => false],
  ];

  it.each(FILTERS)('filters with %s', async (filter, predicate) => {
    // "name > ..." depends on the collation; only compare rows whose order is the same everywhere.
    const expected = items.filter(predicate).map((i) => i.id);
    const { ids, totalSizes } = await pageThrough(db, 'items', { filter, pageSize: 40, orderBy: 'count desc' });
    if (filter.startsWith('name >')) {
      expect(ids).toEqual(expect.arrayContaining(expected));
      return;
    }
    expect([...ids].sort()).toEqual(expected);
    expect(new Set(totalSizes)).toEqual(new Set([expected.length]));
  });

  it('rejects a page token reused with another filter, orderBy or scope, or tampered with', async () => {
    const request = { filter: 'count > 2', orderBy: 'name desc', pageSize: 10 };
    const { nextPageToken: pageToken } = await listPage<Item>(db, params('items', request));
    const mismatch = /^pageToken: the page token does not match the filter and orderBy it was issued for$/;
    await expectInvalid(listPage(db, params('items', { ...request, pageToken, filter: 'count > 3' })), mismatch);
    await expectInvalid(listPage(db, params('items', { ...request, pageToken, orderBy: 'name' })), mismatch);
    await expectInvalid(
      listPage(db, { ...params('items', { ...request, pageToken }), scope: { account_id: 'b' } }),
      mismatch,
    );
    // Same filter written differently: the token still applies.
    const same = await listPage<Item>(db, params('items', { ...request, filter: ' count>2 ', pageToken }));
    expect(same.rows).toHaveLength(10);
    const decoded = JSON.parse(Buffer.from(pageToken, 'base64url').toString()) as { k: unknown[] };
    const tampered = (k: unknown[]) =>
      Buffer.from(JSON.stringify({ ...decoded, k })).toString('base64url');
    for (const k of [[], ['x'], [{}, 'i0001']]) {
      const pageToken = tampered(k);
      await expectInvalid(listPage(db, params('items', { ...request, pageToken })), /^pageToken: invalid page token$/);
    }
    await expectInvalid(listPage(db, params('items', { ...request, pageToken: 'garbage!' })), /^pageToken: invalid/);
  });

  it('reports filter, orderBy and pageSize errors', async () => {
    await expectInvalid(listPage(db, params('items', { filter: 'size > 1' })), /^filter: unknown field "size"/);
    await expectInvalid(listPage(db, params('items', { orderBy: 'size' })), /^orderBy: unknown field "size"/);
    await expectInvalid(listPage(db, params('items', { pageSize: -1 })), /^pageSize: must not be negative/);
  });

  it('neither skips nor repeats existing rows when rows are inserted between pages', async () => {
    const orders = ['', 'createTime desc', 'name, count desc', 'score desc, active, createTime desc'];
    for (const [n, orderBy] of orders.entries()) {
      const table = `growing${n}`;
      await createTable(db, table);
      const existing = makeItems('a', 200, 11 + n);
      await db.insertInto(table).values(existing).execute();
      let batch = 0;
      const insertSome = async () => {
        // New rows land before, inside and after the current position of every order.
        await db.insertInto(table).values(makeItems('a', 6, 100 + batch, `n${batch++}x`)).execute();
      };
      const { ids } = await pageThrough(db, table, { orderBy, pageSize: 23 }, insertSome);
      expect(batch).toBeGreaterThan(5);
      expect(new Set(ids).size, orderBy).toBe(ids.length);
      const seen = new Set(ids);
      expect(existing.filter((item) => !seen.has(item.id)).map((i) => i.id), orderBy).toEqual([]);
    }
  });
});
