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
