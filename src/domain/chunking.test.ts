import { describe, expect, it } from 'vitest';
import { evenRanges, groupAlignedRanges, groupKeyOf } from './chunking.js';

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
});
