import { invalidArgument } from '../domain/errors.js';
import { formatLineErrors, JsonlScanner, type JsonlLimits } from '../domain/jsonl.js';
import type { DatasetStats } from '../domain/types.js';
import type { Store } from '../store/index.js';

/** Rows written per store call: large enough to amortise a transaction, small enough to stay flat. */
const WRITE_BATCH_ROWS = 2000;

export interface IngestResult {
  rowSetId: number;
  stats: DatasetStats;
  bytes: number;
}

/**
 * Streams JSONL from `source` into a fresh row set. On any invalid line the row set is dropped and
 * INVALID_ARGUMENT names the first lines at fault; the whole body is still read (not stored) so
 * that the error reaches the client over an intact connection and counts every bad line.
 */
export async function ingestJsonl(
  store: Store,
  { accountId, source, limits, field }: { accountId: string; source: AsyncIterable<Uint8Array>; limits?: Partial<JsonlLimits>; field: string },
): Promise<IngestResult> {
  const rowSetId = await store.rows.createSet(accountId);
  try {
    const scanner = new JsonlScanner(limits);
    const writer = createBatchWriter(store, rowSetId);
    let bytes = 0;
    for await (const chunk of source) {
      bytes += chunk.byteLength;
      const rows = scanner.push(chunk);
      if (scanner.errorCount === 0) await writer.add(rows.map((r) => r.text));
    }
    const last = scanner.end();
    if (scanner.errorCount > 0) throw invalidArgument(`${field}: ${formatLineErrors(scanner.errors, scanner.errorCount)}`);
    await writer.add(last.map((r) => r.text));
    await writer.flush();
    if (scanner.stats.exampleCount === 0) throw invalidArgument(`${field}: the file holds no JSON rows`);
    return { rowSetId, stats: scanner.stats, bytes };
  } catch (error: unknown) {
    await store.rows.deleteSet(rowSetId);
    throw error;
  }
}

function createBatchWriter(store: Store, rowSetId: number) {
  let pending: string[] = [];
  let next = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    await store.rows.append(rowSetId, next, batch);
    next += batch.length;
  };
  return {
    flush,
    async add(texts: string[]): Promise<void> {
      for (const text of texts) pending.push(text);
      if (pending.length >= WRITE_BATCH_ROWS) await flush();
    },
  };
}

/** Reads a row set back in index order, a page at a time, so memory stays flat. */
export async function* readRowSet(store: Store, rowSetId: number, pageRows = 2000): AsyncGenerator<string[]> {
  let after = -1;
  for (;;) {
    const page = await store.rows.read(rowSetId, after, pageRows);
    if (page.length === 0) return;
    yield page.map((r) => r.data);
    after = page[page.length - 1]!.idx;
  }
}
