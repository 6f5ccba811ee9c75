import { CompiledQuery, PostgresAdapter, type Kysely } from 'kysely';

/** A column and the PostgreSQL element type of its array (for unnest). */
export type BulkColumn = readonly [name: string, pgType: 'int4' | 'int8' | 'float8' | 'text'];

/** Rows per SQLite statement: 1,000 rows x 7 columns stays far below SQLite's 32,766 variables. */
const SQLITE_ROWS_PER_STATEMENT = 1000;

const sqliteStatements = new Map<string, string>();

/**
 * Inserts many rows with one statement per batch, without Kysely building a query tree per
 * value: for 1,000-row chunks the query builder cost more than the insert. PostgreSQL gets one
 * array per column and `unnest` (one fixed statement whatever the count); SQLite gets a
 * multi-row VALUES whose text is the same for every full batch, so it is prepared once (the
 * store's statement cache). Table and column names come from our code, never from a request.
 */
export async function insertMany(db: Kysely<any>, table: string, columns: readonly BulkColumn[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map(([name]) => `"${name}"`).join(', ');
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const arrays = columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
    const parameters = columns.map((_, c) => rows.map((row) => row[c]));
    await db.executeQuery(CompiledQuery.raw(`insert into "${table}" (${names}) select * from unnest(${arrays})`, parameters));
    return;
  }
  for (let start = 0; start < rows.length; start += SQLITE_ROWS_PER_STATEMENT) {
    const count = Math.min(SQLITE_ROWS_PER_STATEMENT, rows.length - start);
    await db.executeQuery(CompiledQuery.raw(sqliteInsert(table, names, columns.length, count), flatten(rows, start, count, columns.length)));
  }
}

/** The batch's values in one array: a plain loop, as `slice().flat()` took about 1 ms per 1,000 rows. */
function flatten(rows: readonly (readonly unknown[])[], start: number, count: number, width: number): unknown[] {
  const values = new Array<unknown>(count * width);
  let at = 0;
  for (let r = start; r < start + count; r++) {
    const row = rows[r]!;
    for (let c = 0; c < width; c++) values[at++] = row[c];
  }
  return values;
}

function sqliteInsert(table: string, names: string, width: number, count: number): string {
  const key = `${table}|${names}|${count}`;
  let text = sqliteStatements.get(key);
  if (text === undefined) {
    const tuple = `(${new Array<string>(width).fill('?').join(', ')})`;
    text = `insert into "${table}" (${names}) values ${new Array<string>(count).fill(tuple).join(', ')}`;
    // Odd batch sizes (a job's last chunk) would otherwise accumulate texts forever.
    if (sqliteStatements.size > 256) sqliteStatements.clear();
    sqliteStatements.set(key, text);
  }
  return text;
}
