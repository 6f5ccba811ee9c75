import { describe, expect, it } from 'vitest';
import { compileRowFilter } from './row-filter.js';

const rows = [
  { id: 1, tag: 'early', ok: true, meta: { split: 'train' }, gt: null },
  { id: 2, tag: 'late', ok: false, meta: { split: 'test' }, gt: '4' },
  { id: 10, tag: 'late', ok: true, meta: { split: 'test' } },
];

const ids = (filter: string) => rows.filter(compileRowFilter(filter)!).map((r) => r.id);

describe('compileRowFilter', () => {
  it('compares numbers numerically, strings as text, booleans and null', () => {
    expect(ids('id > 2')).toEqual([10]);
    expect(ids('id >= 2 AND tag = "late"')).toEqual([2, 10]);
    expect(ids('ok = true')).toEqual([1, 10]);
    expect(ids('gt = null')).toEqual([1]);
    expect(ids('tag : "ar"')).toEqual([1]);
  });

  it('reads dotted paths and treats missing values as not equal', () => {
    expect(ids('meta.split = test')).toEqual([2, 10]);
    expect(ids('gt != "4"')).toEqual([1, 10]);
    expect(ids('nothing.here = 1')).toEqual([]);
  });

  it('supports NOT, OR and parentheses', () => {
    expect(ids('NOT (id = 1 OR id = 2)')).toEqual([10]);
  });

  it('is undefined for a blank filter and rejects malformed ones naming the filter', () => {
    expect(compileRowFilter('  ')).toBeUndefined();
    expect(() => compileRowFilter('id = ')).toThrow(/^filter: /);
    expect(() => compileRowFilter('1abc = 2')).toThrow(/^filter: /);
  });
});
