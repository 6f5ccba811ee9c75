/**
 * How a job's rows are cut into chunks. Pointwise evaluators take any cut; a groupwise one must
 * see each group whole, so chunks end only at group boundaries; an all-rows one gets one chunk.
 */

export type Range = [start: number, end: number];

export function evenRanges(total: number, size: number): Range[] {
  const ranges: Range[] = [];
  for (let start = 0; start < total; start += size) ranges.push([start, Math.min(total, start + size)]);
  return ranges;
}

/**
 * Consecutive rows with the same key form a group; groups are packed into chunks of at most
 * `size` rows, except that a group larger than `size` is a chunk of its own.
 */
export function groupAlignedRanges(keys: readonly string[], size: number): Range[] {
  const ranges: Range[] = [];
  let chunkStart = 0;
  let groupStart = 0;
  for (let i = 1; i <= keys.length; i++) {
    if (i < keys.length && keys[i] === keys[groupStart]) continue;
    // [groupStart, i) is a whole group: close the chunk before it if it would overflow.
    if (i - chunkStart > size && groupStart > chunkStart) {
      ranges.push([chunkStart, groupStart]);
      chunkStart = groupStart;
    }
    groupStart = i;
  }
  if (keys.length > chunkStart) ranges.push([chunkStart, keys.length]);
  return ranges;
}

/** eval-protocol's group: rows sharing `input_metadata.row_id`; a row without one is alone. */
export function groupKeyOf(row: unknown, idx: number): string {
  const metadata = (row as { input_metadata?: { row_id?: unknown } } | null)?.input_metadata;
  const id = metadata?.row_id;
  return typeof id === 'string' || typeof id === 'number' ? `id:${String(id)}` : `row:${idx}`;
}

/** The chunk size that makes a cheap job fast (bench/job.ts); no planned chunk is larger. */
export const CHEAP_CHUNK_ROWS = 1000;
/** Chunks per slot a job is cut into at least: every slot gets work, and the tail is short. */
const CHUNKS_PER_SLOT = 4;
/** What a leased chunk of a pointwise job should last, once its per-row time has been seen. */
export const TARGET_CHUNK_MS = 2000;
/** Rows of a job's first chunk in a worker, before any per-row time has been seen. */
const PROBE_ROWS = 16;

/**
 * Rows per chunk when a job is created without `chunkRows`: a cheap job keeps 1,000-row chunks,
 * a small one is cut so that each slot that can take work gets several chunks.
 */
export function plannedChunkRows(totalRows: number, slots: number): number {
  const spread = Math.ceil(totalRows / (Math.max(1, slots) * CHUNKS_PER_SLOT));
  return Math.max(1, Math.min(CHEAP_CHUNK_ROWS, spread));
}

/**
 * How many of a leased chunk's rows a slot scores now (the rest goes back as a chunk of its
 * own). Before the job's pace is known, a probe: enough rows to fill the process's rows in
 * flight twice. Then as many rows as last TARGET_CHUNK_MS at the wall-clock time per row seen so
 * far, so a job whose rows take seconds is cut down to a few rows a chunk, and every slot of every
 * worker finds work, while a cheap job keeps its chunks whole.
 */
export function rowsToScoreNow(chunkRows: number, pace: { wallMsPerRow?: number; rowsInFlight: number }): number {
  const { wallMsPerRow, rowsInFlight } = pace;
  const wanted = wallMsPerRow === undefined
    ? Math.max(PROBE_ROWS, 2 * rowsInFlight)
    : Math.max(rowsInFlight, Math.floor(TARGET_CHUNK_MS / Math.max(wallMsPerRow, 1e-3)), 1);
  return Math.max(1, Math.min(chunkRows, wanted));
}
