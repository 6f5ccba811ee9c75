import { describe, expect, it } from 'vitest';
import { CHEAP_CHUNK_ROWS, evenRanges, groupAlignedRanges, groupKeyOf, plannedChunkRows, rowsToScoreNow } from './chunking.js';

describe('chunking', () => {
  it('cuts evenly, the last chunk short', () => {
    expect(evenRanges(7, 3)).toEqual([[0, 3], [3, 6], [6, 7]]);
    expect(evenRanges(0, 3)).toEqual([]);
  });

  it('never splits a group, packing whole groups up to the size', () => {
    const keys = ['a', 'a', 'b', 'b', 'b', 'c', 'd', 'd', 'd', 'd', 'd', 'e'];
    expect(groupAlignedRanges(keys, 4)).toEqual([[0, 2], [2, 6], [6, 11], [11, 12]]);
    expect(groupAlignedRanges(['x', 'x', 'x'], 10)).toEqual([[0, 3]]);
    expect(groupAlignedRanges([], 4)).toEqual([]);
    expect(groupAlignedRanges(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([[0, 2], [2, 4], [4, 5]]);
  });

  it('groups by input_metadata.row_id, a row without one alone', () => {
    expect(groupKeyOf({ input_metadata: { row_id: 'q1' } }, 3)).toBe('id:q1');
    expect(groupKeyOf({ messages: [] }, 3)).toBe('row:3');
    expect(groupKeyOf({ messages: [] }, 4)).not.toBe(groupKeyOf({ messages: [] }, 3));
  });

  it('plans 1,000-row chunks for a big job and several chunks per slot for a small one', () => {
    expect(plannedChunkRows(100_000, 3)).toBe(CHEAP_CHUNK_ROWS);
    expect(plannedChunkRows(1000, 3)).toBe(84);
    expect(plannedChunkRows(2000, 3)).toBe(167);
    expect(plannedChunkRows(5, 3)).toBe(1);
    expect(plannedChunkRows(0, 3)).toBe(1);
  });

  it('scores a probe of a leased chunk first, then as many rows as last about two seconds', () => {
    expect(rowsToScoreNow(1000, { rowsInFlight: 1 })).toBe(16);
    expect(rowsToScoreNow(1000, { rowsInFlight: 96 })).toBe(192);
    expect(rowsToScoreNow(10, { rowsInFlight: 96 })).toBe(10);
    // Seconds a row, one at a time: a row a chunk.
    expect(rowsToScoreNow(84, { wallMsPerRow: 3000, rowsInFlight: 1 })).toBe(1);
    expect(rowsToScoreNow(84, { wallMsPerRow: 500, rowsInFlight: 1 })).toBe(4);
    // Cheap rows keep the chunk whole; many rows in flight never get fewer rows than that.
    expect(rowsToScoreNow(1000, { wallMsPerRow: 0.05, rowsInFlight: 1 })).toBe(1000);
    expect(rowsToScoreNow(1000, { wallMsPerRow: 100, rowsInFlight: 96 })).toBe(96);
  });
});
