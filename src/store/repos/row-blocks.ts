/**
 * Where a row set's rows live: in `row_blocks`, runs of up to 1,000 consecutive rows in one value
 * with where each part ends (an upload writes a block per 1,000 rows, a job one per chunk of
 * output), or one `rows` row per row (rows whose indexes are not consecutive, and databases from
 * before blocks). Writing a chunk is then one insert instead of a thousand index entries (those
 * were most of a job's SQLite time), and a block is read back whole. Readers never see the
 * difference: everything that reads rows by row set and index goes through here.
 *
 * A block's layout says what its parts are: '' one text per row; 'output' three parts per row,
 * the input row, the evaluation's JSON and its score, spliced into the output row as it is read
 * (an output row holds its evaluation twice: kept apart, a block is 40% smaller), or the row's
 * whole text and two empty parts; 'derived' a job's output rows without the input rows, which
 * are read from the row set's base (the job's input) at the same indexes: writing a chunk's
 * output then costs a tenth of its input's size, not twice it. See encodeDerivedBlock.
 */
import type { Kysely } from 'kysely';
import { outputRowText, spliceOutputKeys, type OutputRow } from '../../domain/output-rows.js';
import { insertMany, type BulkColumn } from '../bulk-insert.js';
import type { Database } from '../schema.js';

export interface StoredRow {
  idx: number;
  data: string;
}

interface BlockRow {
  first_idx: number;
  last_idx: number;
  ends: string;
  data: string;
  layout: string;
}

/**
 * A block as stored: `ends` is the JSON array of where each part ends in `data`, in UTF-16 code
 * units (JSON already: it crosses to the SQLite writer thread as one string, not 3,000 numbers).
 */
export interface EncodedBlock {
  first: number;
  last: number;
  ends: string;
  data: string;
  layout: '' | 'output' | 'derived';
}

/** Rows per block, and text per block (UTF-16 code units): a block is read and held whole. */
const BLOCK_MAX_ROWS = 1000;
const BLOCK_MAX_CHARS = 4 * 1024 * 1024;

/**
 * The rows as blocks of consecutive rows, or undefined when their indexes are not consecutive.
 * `derived`: a job's output rows, written to a row set whose base holds their input rows.
 */
export function encodeBlocks(rows: readonly OutputRow[], { derived = false } = {}): EncodedBlock[] | undefined {
  const first = rows[0]?.idx;
  if (first === undefined || !rows.every((row, i) => row.idx === first + i)) return undefined;
  const blocks: EncodedBlock[] = [];
  for (let start = 0, chars = 0, i = 0; i < rows.length; i++) {
    chars += sizeOf(rows[i]!);
    const full = i + 1 - start >= BLOCK_MAX_ROWS || chars >= BLOCK_MAX_CHARS;
    if (full || i === rows.length - 1) {
      const slice = rows.slice(start, i + 1);
      blocks.push(derived ? encodeDerivedBlock(slice) : encodeBlock(slice));
      start = i + 1;
      chars = 0;
    }
  }
  return blocks;
}

const sizeOf = (row: OutputRow) => ('text' in row ? row.text.length : row.input.length + row.evaluation.length);

/**
 * Consecutive output rows of a job without their input rows. Each row has three parts (its
 * whole text when it could not be spliced, else '', then the evaluation's JSON and the score),
 * and each distinct part is stored once: `data` holds the distinct parts, `ends` is
 * [where each distinct part ends, three part numbers per row], part 0 being ''. Evaluators
 * whose results repeat (pass or fail, a few grades) then cost a few bytes a row.
 */
function encodeDerivedBlock(rows: readonly OutputRow[]): EncodedBlock {
  const numbers = new Map<string, number>([['', 0]]);
  const distinct: string[] = [''];
  const numberOf = (part: string): number => {
    let n = numbers.get(part);
    if (n === undefined) {
      n = distinct.push(part) - 1;
      numbers.set(part, n);
    }
    return n;
  };
  const refs = new Array<number>(rows.length * 3);
  rows.forEach((row, i) => {
    const own = 'text' in row;
    refs[3 * i] = own ? numberOf(row.text) : 0;
    refs[3 * i + 1] = own ? 0 : numberOf(row.evaluation);
    refs[3 * i + 2] = own ? 0 : numberOf(row.score);
  });
  const first = rows[0]!.idx;
  return { first, last: first + rows.length - 1, ends: JSON.stringify([endsOf(distinct), refs]), data: distinct.join(''), layout: 'derived' };
}

/** Consecutive rows as one block. */
function encodeBlock(rows: readonly OutputRow[]): EncodedBlock {
  const first = rows[0]!.idx;
  const output = rows.some((row) => !('text' in row));
  const parts: string[] = [];
  for (const row of rows) {
    if (!output) parts.push((row as { text: string }).text);
    else if ('text' in row) parts.push(row.text, '', '');
    else parts.push(row.input, row.evaluation, row.score);
  }
  return { first, last: first + rows.length - 1, ends: JSON.stringify(endsOf(parts)), data: parts.join(''), layout: output ? 'output' : '' };
}

/** Where each part ends in the parts joined (UTF-16 code units). */
function endsOf(parts: readonly string[]): number[] {
  const ends = new Array<number>(parts.length);
  let end = 0;
  parts.forEach((part, i) => (ends[i] = end += part.length));
  return ends;
}

/** Part `i` of a block's data, given where each part ends. */
const partOf = (data: string, ends: readonly number[], i: number): string => data.slice(i === 0 ? 0 : ends[i - 1], ends[i]);

const ROW_COLUMNS: readonly BulkColumn[] = [['row_set_id', 'int8'], ['idx', 'int4'], ['data', 'text']];

/**
 * Stores rows of a row set: in blocks when their indexes are consecutive, else one by one.
 * `derived`: a job's output rows, into a row set whose base holds their input rows.
 */
export async function writeRows(db: Kysely<Database>, rowSetId: number, rows: readonly OutputRow[], options: { derived?: boolean } = {}): Promise<void> {
  if (rows.length === 0) return;
  const blocks = encodeBlocks(rows, options);
  if (!blocks) {
    await insertMany(db, 'rows', ROW_COLUMNS, rows.map((r) => [rowSetId, r.idx, outputRowText(r)]));
    return;
  }
  for (const block of blocks) {
    await db
      .insertInto('row_blocks')
      .values({ row_set_id: rowSetId, first_idx: block.first, last_idx: block.last, ends: block.ends, data: block.data, layout: block.layout })
      .execute();
  }
}

/** Up to `limit` rows with an index above `afterIdx`, in index order, from rows and blocks alike. */
export async function readRows(db: Kysely<Database>, rowSetId: number, afterIdx: number, limit: number): Promise<StoredRow[]> {
  const single = await db
    .selectFrom('rows')
    .select(['idx', 'data'])
    .where('row_set_id', '=', rowSetId)
    .where('idx', '>', afterIdx)
    .orderBy('idx')
    .limit(limit)
    .execute();
  const blocked: StoredRow[] = [];
  const base = baseOf(db, rowSetId);
  for (let after = afterIdx; blocked.length < limit; ) {
    const block = await blockAfter(db, rowSetId, after);
    if (!block) break;
    for (const row of await rowsOf(db, rowSetId, block, base)) if (row.idx > after && blocked.length < limit) blocked.push(row);
    after = Number(block.last_idx);
  }
  if (blocked.length === 0) return single.map((r) => ({ idx: Number(r.idx), data: r.data }));
  return merge(single.map((r) => ({ idx: Number(r.idx), data: r.data })), blocked).slice(0, limit);
}

/** The rows with these indexes (those that exist), keyed by index. */
export async function readRowsAt(db: Kysely<Database>, rowSetId: number, idxs: readonly number[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (idxs.length === 0) return found;
  const single = await db.selectFrom('rows').select(['idx', 'data']).where('row_set_id', '=', rowSetId).where('idx', 'in', [...idxs]).execute();
  for (const row of single) found.set(Number(row.idx), row.data);
  const missing = [...new Set(idxs)].filter((idx) => !found.has(idx)).sort((a, b) => a - b);
  const base = baseOf(db, rowSetId);
  for (let i = 0; i < missing.length; ) {
    const block = await blockAfter(db, rowSetId, missing[i]! - 1);
    if (!block) break;
    const rows = await rowsOf(db, rowSetId, block, base);
    const [first, last] = [Number(block.first_idx), Number(block.last_idx)];
    for (; i < missing.length && missing[i]! <= last; i++) {
      const idx = missing[i]!;
      if (idx >= first) found.set(idx, rows[idx - first]!.data);
    }
  }
  return found;
}

export async function deleteRows(db: Kysely<Database>, rowSetId: number): Promise<void> {
  await db.deleteFrom('rows').where('row_set_id', '=', rowSetId).execute();
  await db.deleteFrom('row_blocks').where('row_set_id', '=', rowSetId).execute();
}

/** The first block holding a row with an index above `afterIdx` (blocks never overlap). */
function blockAfter(db: Kysely<Database>, rowSetId: number, afterIdx: number): Promise<BlockRow | undefined> {
  return db
    .selectFrom('row_blocks')
    .select(['first_idx', 'last_idx', 'ends', 'data', 'layout'])
    .where('row_set_id', '=', rowSetId)
    .where('last_idx', '>', afterIdx)
    .orderBy('last_idx')
    .limit(1)
    .executeTakeFirst();
}

async function rowsOf(db: Kysely<Database>, rowSetId: number, block: BlockRow, base: BaseRowSet): Promise<StoredRow[]> {
  if (block.layout === 'derived') return derivedRowsOf(db, rowSetId, block, await base());
  const ends = JSON.parse(block.ends) as number[];
  const first = Number(block.first_idx);
  const part = (i: number) => partOf(block.data, ends, i);
  if (block.layout !== 'output') return ends.map((_, i) => ({ idx: first + i, data: part(i) }));
  const rows: StoredRow[] = [];
  for (let i = 0; i < ends.length; i += 3) {
    const evaluation = part(i + 1);
    rows.push({ idx: first + i / 3, data: evaluation === '' ? part(i) : spliceOutputKeys(part(i), evaluation, part(i + 2)) });
  }
  return rows;
}

/** A derived block's rows: its parts spliced into the base's rows of the same indexes. */
async function derivedRowsOf(db: Kysely<Database>, rowSetId: number, block: BlockRow, base: number): Promise<StoredRow[]> {
  const [ends, refs] = JSON.parse(block.ends) as [number[], number[]];
  const distinct = ends.map((_, i) => partOf(block.data, ends, i));
  const first = Number(block.first_idx);
  const count = refs.length / 3;
  const inputs = new Map((await readRows(db, base, first - 1, count)).map((row) => [row.idx, row.data]));
  const rows = new Array<StoredRow>(count);
  for (let i = 0; i < count; i++) {
    const idx = first + i;
    const own = distinct[refs[3 * i]!]!;
    if (own !== '') {
      rows[i] = { idx, data: own };
      continue;
    }
    const input = inputs.get(idx);
    if (input === undefined) throw new Error(`store: row ${idx} of row set ${rowSetId} derives from row set ${base}, which lacks it`);
    rows[i] = { idx, data: spliceOutputKeys(input, distinct[refs[3 * i + 1]!]!, distinct[refs[3 * i + 2]!]!) };
  }
  return rows;
}

/** The row set a derived one reads its input rows from, looked up at most once per read. */
type BaseRowSet = () => Promise<number>;

function baseOf(db: Kysely<Database>, rowSetId: number): BaseRowSet {
  let found: Promise<number> | undefined;
  return () =>
    (found ??= (async () => {
      const set = await db.selectFrom('row_sets').select('base_row_set_id').where('id', '=', rowSetId).executeTakeFirst();
      if (set?.base_row_set_id == null) throw new Error(`store: row set ${rowSetId} holds derived rows but has no base row set`);
      return Number(set.base_row_set_id);
    })());
}

function merge(a: StoredRow[], b: StoredRow[]): StoredRow[] {
  if (a.length === 0) return b;
  const out: StoredRow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) out.push(j >= b.length || (i < a.length && a[i]!.idx < b[j]!.idx) ? a[i++]! : b[j++]!);
  return out;
}
