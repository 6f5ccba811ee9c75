import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../domain/errors.js';
import type { JsonlLimits } from '../domain/jsonl.js';
import { nowIso, type DatasetRecord, type Principal } from '../domain/types.js';
import type { Store } from '../store/index.js';
import { ingestJsonl } from './row-ingest.js';

/** The smallest chunk `:splitDataset` makes (the last one may hold fewer: what is left). */
export const MIN_SPLIT_CHUNK_ROWS = 200;
/** Chunks one split may make: each is a dataset. */
export const MAX_SPLIT_CHUNKS = 1000;
const PAGE_ROWS = 2000;

export interface SplitResult {
  chunkDatasetIds: string[];
  totalExamples: number;
}

/**
 * `:splitDataset`: the rows of a READY dataset cut into datasets of `chunkSize` rows, in order,
 * named `<id>-chunk-<n>` (n from 1), each READY with `splitted: {sourceDatasetId}`. All or
 * nothing: a name already taken is a 409 before anything is made, and a failure part-way drops
 * the chunks made so far.
 */
export async function splitDataset(
  store: Store,
  { principal, datasetId, chunkSize, limits }: { principal: Principal; datasetId: string; chunkSize: number; limits?: Partial<JsonlLimits> | undefined },
): Promise<SplitResult> {
  const { accountId } = principal;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_SPLIT_CHUNK_ROWS) {
    throw invalidArgument(`chunkSize: expected an integer of at least ${MIN_SPLIT_CHUNK_ROWS} rows, got ${chunkSize}`);
  }
  const source = await store.datasets.get(accountId, datasetId);
  if (!source) throw notFound(`dataset "accounts/${accountId}/datasets/${datasetId}" not found`);
  if (source.state !== 'READY' || source.rowSetId === null) throw failedPrecondition(`dataset "${datasetId}" is ${source.state}, not READY: upload its rows first`);
  const total = source.exampleCount;
  const count = Math.max(1, Math.ceil(total / chunkSize));
  if (count > MAX_SPLIT_CHUNKS) throw invalidArgument(`chunkSize: ${total} rows in chunks of ${chunkSize} make ${count} datasets, over the limit of ${MAX_SPLIT_CHUNKS}; use larger chunks`);
  const ids = Array.from({ length: count }, (_, i) => chunkDatasetId(datasetId, i + 1));
  for (const id of ids) if (await store.datasets.get(accountId, id)) throw alreadyExists(`dataset "${id}" already exists; delete it or the earlier split's chunks first`);
  const made: string[] = [];
  try {
    for (const [i, id] of ids.entries()) {
      await store.datasets.create(chunkRecord(principal, id, source));
      made.push(id);
      const ingested = await ingestJsonl(store, { accountId, source: rowsBetween(store, source.rowSetId, i * chunkSize, (i + 1) * chunkSize), limits, field: 'chunk' });
      await store.datasets.commitRows(accountId, id, { rowSetId: ingested.rowSetId, stats: ingested.stats, updateTime: nowIso() });
    }
  } catch (error: unknown) {
    for (const id of made) await store.datasets.delete(accountId, id);
    throw error;
  }
  return { chunkDatasetIds: ids, totalExamples: total };
}

/** `<id>-chunk-<n>`, the id cut so the whole stays within the 63 characters an id may have. */
export function chunkDatasetId(datasetId: string, n: number): string {
  const suffix = `-chunk-${n}`;
  return `${datasetId.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

function chunkRecord(principal: Principal, id: string, source: DatasetRecord): DatasetRecord {
  const now = nowIso();
  return {
    accountId: principal.accountId, id, displayName: `${source.displayName} (${id})`, createdBy: principal.keyId, createTime: now, updateTime: now,
    state: 'UPLOADING', status: { code: 'OK', message: `being split from dataset "${source.id}"` }, format: source.format,
    exampleCount: 0, averageTurnCount: 0, estimatedTokenCount: 0,
    origin: { splitted: { sourceDatasetId: source.id }, ...(source.origin.evalProtocol ? { evalProtocol: source.origin.evalProtocol } : {}) },
    rowSetId: null,
  };
}

/** The rows with index in [start, end), as JSONL bytes, a page at a time. */
async function* rowsBetween(store: Store, rowSetId: number, start: number, end: number): AsyncGenerator<Uint8Array> {
  for (let after = start - 1; after < end - 1; ) {
    const page = (await store.rows.read(rowSetId, after, Math.min(PAGE_ROWS, end - 1 - after))).filter((r) => r.idx < end);
    if (page.length === 0) return;
    yield Buffer.from(page.map((r) => r.data).join('\n') + '\n');
    after = page[page.length - 1]!.idx;
  }
}
