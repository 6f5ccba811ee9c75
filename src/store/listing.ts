/**
 * List queries against any table: AIP-160 filter compiled to a parameterised Kysely expression,
 * orderBy, keyset pagination (tokens stay valid while rows are added) and totalSize.
 */
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import {
  decodePageToken,
  encodePageToken,
  listFingerprint,
  normalisePageSize,
  parseFilter,
  parseOrderBy,
  type FilterExpr,
  type ListFields,
} from '../domain/listing.js';
import { invalidArgument } from '../domain/errors.js';

export interface ListPageParams {
  table: string;
  /** Conditions every listed row satisfies: equality, or membership for an array. */
  scope: Record<string, ScopeValue>;
  /** Unique within the scope: the final tiebreaker of every order. */
  idColumn: string;
  fields: ListFields;
  request: { filter?: string; orderBy?: string; pageSize?: number; pageToken?: string };
}

export type ScopeValue = string | number | readonly (string | number)[];

export interface ListPageResult<Row> {
  rows: Row[];
  nextPageToken: string;
  totalSize: number;
}

interface KeyColumn {
  column: string;
  desc: boolean;
}

// Kysely<any>: the table is chosen at run time; every value still goes through a parameter.
type AnyBuilder = ExpressionBuilder<any, any>;

export async function listPage<Row>(
    db: Kysely<any>,
  params: ListPageParams,
): Promise<ListPageResult<Row>> {
  const { table, scope, idColumn, fields, request } = params;
  const filter = parseFilter(request.filter ?? '', fields);
  const order = parseOrderBy(request.orderBy, fields);
  const pageSize = normalisePageSize(request.pageSize);
  const keyColumns = keyColumnsOf(order, idColumn);
  const fingerprint = listFingerprint(filter, order, { table, scope });
  const after = request.pageToken ? decodeKeys(request.pageToken, fingerprint, keyColumns.length) : undefined;

  const base = db.selectFrom(table).where((eb) => matching(eb, scope, filter));
  let query = base.selectAll();
  if (after !== undefined) query = query.where((eb) => afterKeys(eb, keyColumns, after));
  for (const { column, desc } of keyColumns) query = query.orderBy(column, desc ? 'desc' : 'asc');
  const [fetched, count] = await Promise.all([
    query.limit(pageSize + 1).execute() as Promise<Row[]>,
    base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
  ]);
  const hasMore = fetched.length > pageSize;
  const rows = hasMore ? fetched.slice(0, pageSize) : fetched;
  const last = rows[rows.length - 1] as Record<string, unknown> | undefined;
  const nextPageToken =
    hasMore && last !== undefined ? encodePageToken({ keys: keysOf(last, keyColumns), fingerprint }) : '';
  // count() is a string on PostgreSQL (bigint) and a number on SQLite.
  return { rows, nextPageToken, totalSize: Number((count as { n?: unknown } | undefined)?.n ?? 0) };
}

/** The order terms up to the first unique column (anything after it cannot matter), then the id. */
function keyColumnsOf(order: { column: string; desc: boolean }[], idColumn: string): KeyColumn[] {
  const keys: KeyColumn[] = [];
  for (const { column, desc } of order) {
    keys.push({ column, desc });
    if (column === idColumn) return keys;
  }
  keys.push({ column: idColumn, desc: false });
  return keys;
}

function decodeKeys(token: string, fingerprint: string, count: number): (string | number)[] {
  const { keys } = decodePageToken(token, fingerprint);
  if (keys.length !== count || !keys.every((k) => typeof k === 'string' || typeof k === 'number')) {
    throw invalidArgument('pageToken: invalid page token');
  }
  return keys as (string | number)[];
}

/** bigint (e.g. better-sqlite3 with safeIntegers) does not survive JSON: carry it as text. */
function keysOf(row: Record<string, unknown>, keyColumns: KeyColumn[]): unknown[] {
  return keyColumns.map(({ column }) => {
    const value = row[column];
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'boolean') return value ? 1 : 0;
    return value;
  });
}

function matching(eb: AnyBuilder, scope: Record<string, ScopeValue>, filter: FilterExpr | undefined) {
  const conditions: Expression<SqlBool>[] = Object.entries(scope).map(([column, value]) =>
    // `IN ()` is not valid SQL; an empty set matches no row.
    Array.isArray(value) ? (value.length > 0 ? eb(column, 'in', value) : sql<SqlBool>`1 = 0`) : eb(column, '=', value),
  );
  if (filter !== undefined) conditions.push(compileFilter(eb, filter));
  return eb.and(conditions);
}

/**
 * Rows strictly after `keys` in the (mixed asc/desc) order, as the expanded OR of ANDs:
 * (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ... ; columns are NOT NULL so no NULL handling.
 */
function afterKeys(eb: AnyBuilder, keyColumns: KeyColumn[], keys: (string | number)[]) {
  return eb.or(
    keyColumns.map(({ column, desc }, i) =>
      eb.and([
        ...keyColumns.slice(0, i).map((previous, j) => eb(previous.column, '=', keys[j]!)),
        eb(column, desc ? '<' : '>', keys[i]!),
      ]),
    ),
  );
}

export function compileFilter(eb: AnyBuilder, expr: FilterExpr): Expression<SqlBool> {
  switch (expr.kind) {
    case 'and':
      return eb.and(expr.items.map((item) => compileFilter(eb, item)));
    case 'or':
      return eb.or(expr.items.map((item) => compileFilter(eb, item)));
    case 'not':
      return eb.not(compileFilter(eb, expr.item));
    case 'compare':
      return compileComparison(eb, expr);
  }
}

function compileComparison(eb: AnyBuilder, expr: Extract<FilterExpr, { kind: 'compare' }>): Expression<SqlBool> {
  const { column, op, value } = expr;
  if (op === ':') return contains(eb, column, String(value));
  if (typeof value === 'boolean') return eb(column, op, value ? 1 : 0); // booleans are stored as 0/1
  return eb(column, op, typeof value === 'number' ? numberParameter(value) : value);
}

/**
 * PostgreSQL types a parameter after the column it meets: 2.5 against a bigint column, or 3e9
 * against an integer column, would fail to convert. Such values are cast to double precision (a
 * type name SQLite also accepts, with REAL affinity); small integers stay plain for index use.
 */
function numberParameter(value: number): number | Expression<number> {
  if (Number.isInteger(value) && Math.abs(value) <= 2 ** 31 - 1) return value;
  return sql<number>`cast(${value} as double precision)`;
}

/**
 * Case-sensitive substring match. LIKE with '!' as the escape character is portable, but SQLite's
 * LIKE ignores ASCII case, so `replace(column, value, '') <> column` (binary on both backends)
 * makes it exact; LIKE stays as the cheap first test.
 */
function contains(eb: AnyBuilder, column: string, value: string): Expression<SqlBool> {
  const pattern = `%${value.replace(/[!%_]/g, (ch) => `!${ch}`)}%`;
  const like = sql<SqlBool>`${sql.ref(column)} like ${pattern} escape '!'`;
  if (value === '') return like;
  return eb.and([like, sql<SqlBool>`replace(${sql.ref(column)}, ${value}, '') <> ${sql.ref(column)}`]);
}

/** A page of one account's resources of `table` (id column `id`), each row mapped to its record. */
export async function listAccountPage<Row, T>(
  db: Kysely<any>,
  { table, accountId, fields, request }: { table: string; accountId: string; fields: ListFields; request: ListPageParams['request'] },
  toItem: (row: Row) => T,
): Promise<{ items: T[]; nextPageToken: string; totalSize: number }> {
  const page = await listPage<Row>(db, { table, scope: { account_id: accountId }, idColumn: 'id', fields, request });
  return { items: page.rows.map(toItem), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
}
