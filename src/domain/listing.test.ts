import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isApiError } from './errors.js';
import {
  applyReadMask,
  decodePageToken,
  encodePageToken,
  listFingerprint,
  normalisePageSize,
  parseFilter,
  parseOrderBy,
  type FilterExpr,
  type ListFields,
} from './listing.js';

const FIELDS: ListFields = {
  name: { column: 'name', type: 'string' },
  state: { column: 'state', type: 'enum', values: ['READY', 'FAILED'] },
  createTime: { column: 'create_time', type: 'timestamp' },
  count: { column: 'row_count', type: 'number' },
  active: { column: 'is_active', type: 'boolean' },
  'status.code': { column: 'status_code', type: 'string' },
};

const cmp = (field: string, op: string, value: string | number | boolean): FilterExpr => ({
  kind: 'compare',
  field,
  column: FIELDS[field]!.column,
  op: op as '=',
  value,
});

/** Runs `fn` and returns the INVALID_ARGUMENT message it throws. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isApiError(err) && err.code === 'INVALID_ARGUMENT').toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

const filterError = (text: string): string => errorOf(() => parseFilter(text, FIELDS));

describe('parseFilter', () => {
  it('returns undefined for a blank filter', () => {
    expect(parseFilter('', FIELDS)).toBeUndefined();
    expect(parseFilter('  \t', FIELDS)).toBeUndefined();
  });

  it('parses comparisons with every operator and value kind', () => {
    expect(parseFilter('name = "a \\"b\\" \\\\c"', FIELDS)).toEqual(cmp('name', '=', 'a "b" \\c'));
    expect(parseFilter('name:abc', FIELDS)).toEqual(cmp('name', ':', 'abc'));
    expect(parseFilter('name != true', FIELDS)).toEqual(cmp('name', '!=', 'true'));
    expect(parseFilter('count>=-1.5e2', FIELDS)).toEqual(cmp('count', '>=', -150));
    expect(parseFilter('count < "7"', FIELDS)).toEqual(cmp('count', '<', 7));
    expect(parseFilter('active = false', FIELDS)).toEqual(cmp('active', '=', false));
    expect(parseFilter('state = READY', FIELDS)).toEqual(cmp('state', '=', 'READY'));
    expect(parseFilter('status.code = OK', FIELDS)).toEqual(cmp('status.code', '=', 'OK'));
  });

  it('normalises timestamps to ISO-8601 UTC with milliseconds', () => {
    expect(parseFilter('createTime > 2026-01-02T03:04:05+02:00', FIELDS)).toEqual(
      cmp('createTime', '>', '2026-01-02T01:04:05.000Z'),
    );
    expect(parseFilter('createTime <= "2026-01-02"', FIELDS)).toEqual(
      cmp('createTime', '<=', '2026-01-02T00:00:00.000Z'),
    );
    expect(parseFilter('createTime = "2024-02-29T23:59:59.5Z"', FIELDS)).toEqual(
      cmp('createTime', '=', '2024-02-29T23:59:59.500Z'),
    );
  });

  it('binds OR tighter than AND (AIP-160)', () => {
    const [a, b, c] = [cmp('name', '=', 'a'), cmp('name', '=', 'b'), cmp('name', '=', 'c')];
    expect(parseFilter('name=a AND name=b OR name=c', FIELDS)).toEqual({
      kind: 'and',
      items: [a, { kind: 'or', items: [b, c] }],
    });
    expect(parseFilter('name=a OR name=b AND name=c', FIELDS)).toEqual({
      kind: 'and',
      items: [{ kind: 'or', items: [a, b] }, c],
    });
    expect(parseFilter('(name=a AND name=b) OR name=c', FIELDS)).toEqual({
      kind: 'or',
      items: [{ kind: 'and', items: [a, b] }, c],
    });
  });

  it('flattens nested groups of the same kind', () => {
    const [a, b, c] = [cmp('name', '=', 'a'), cmp('name', '=', 'b'), cmp('name', '=', 'c')];
    expect(parseFilter('(name=a AND name=b) AND name=c', FIELDS)).toEqual({ kind: 'and', items: [a, b, c] });
    expect(parseFilter('name=a OR (name=b OR name=c)', FIELDS)).toEqual({ kind: 'or', items: [a, b, c] });
  });

  it('parses NOT and the - prefix, binding to the next term only', () => {
    const a = cmp('name', '=', 'a');
    const b = cmp('name', '=', 'b');
    expect(parseFilter('NOT name=a OR name=b', FIELDS)).toEqual({ kind: 'or', items: [{ kind: 'not', item: a }, b] });
    expect(parseFilter('-name=a', FIELDS)).toEqual({ kind: 'not', item: a });
    expect(parseFilter('NOT (name=a AND name=b)', FIELDS)).toEqual({
      kind: 'not',
      item: { kind: 'and', items: [a, b] },
    });
    expect(parseFilter('NOT NOT name=a', FIELDS)).toEqual({ kind: 'not', item: { kind: 'not', item: a } });
  });

  it('does not read keywords inside longer words', () => {
    expect(parseFilter('name = ORDER', FIELDS)).toEqual(cmp('name', '=', 'ORDER'));
    expect(parseFilter('name=ANDY AND name=NOTE', FIELDS)).toEqual({
      kind: 'and',
      items: [cmp('name', '=', 'ANDY'), cmp('name', '=', 'NOTE')],
    });
  });

  describe('errors', () => {
    it('unknown field, listing the allowed ones', () => {
      expect(filterError('nmae = "x"')).toBe(
        'filter: unknown field "nmae" at column 1; allowed fields: name, state, createTime, count, active, status.code',
      );
      expect(filterError('toString = 1')).toMatch(/^filter: unknown field "toString"/);
    });

    it('operator not allowed for the type', () => {
      expect(filterError('count : 1')).toBe(
        'filter: operator ":" is not allowed for number field "count" (at column 1); allowed operators: = != < <= > >=',
      );
      expect(filterError('state < READY')).toMatch(/^filter: operator "<" is not allowed for enum field "state"/);
      expect(filterError('active > true')).toMatch(/^filter: operator ">" is not allowed for boolean field/);
      expect(filterError('createTime : 2026')).toMatch(/^filter: operator ":" is not allowed for timestamp/);
    });

    it('enum value not allowed, listing the allowed ones', () => {
      expect(filterError('state = ready')).toBe(
        'filter: "ready" is not an allowed value for "state" at column 9; allowed values: READY, FAILED',
      );
    });

    it('values of the wrong type', () => {
      expect(filterError('count = ten')).toBe('filter: "ten" is not a number for "count" at column 9');
      expect(filterError('count = 0x10')).toMatch(/is not a number/);
      expect(filterError('active = yes')).toBe(
        'filter: "yes" is not a boolean for "active" at column 10; use true or false',
      );
      for (const bad of ['yesterday', '2026-02-30', '2026-13-01', '2026-01-01T00:00:00', '2026-01-01T24:00:00Z']) {
        expect(filterError(`createTime > "${bad}"`)).toMatch(
          new RegExp(`^filter: "${bad}" is not a valid timestamp for "createTime" at column 14; use RFC 3339`),
        );
      }
    });

    it('unterminated string', () => {
      expect(filterError('name = "abc')).toBe('filter: unterminated string starting at column 8');
      expect(filterError('name = "abc\\"')).toBe('filter: unterminated string starting at column 8');
    });

    it('trailing input', () => {
      expect(filterError('name = a AND (name = b))')).toBe('filter: unexpected token ")" at column 24');
      expect(filterError('name = a name = b')).toBe('filter: unexpected token "name" at column 10');
      expect(filterError('name = a"b"')).toBe('filter: unexpected token """ at column 9');
    });

    it('empty or incomplete expressions', () => {
      expect(filterError('()')).toBe('filter: empty expression in parentheses at column 1');
      expect(filterError('name = a AND')).toBe('filter: expected a comparison at column 13, found end of input');
      expect(filterError('NOT')).toBe('filter: expected a comparison at column 4, found end of input');
      expect(filterError('(name = a')).toBe('filter: missing ")" to close the "(" at column 1');
      expect(filterError('(name = a b')).toBe(
        'filter: unexpected token "b" at column 11; expected AND, OR or ")"',
      );
      expect(filterError('= 1')).toBe('filter: expected a field name at column 1, found "="');
      expect(filterError('name AND x')).toBe(
        'filter: expected an operator (= != < <= > >= :) after "name" at column 6, found "AND"',
      );
      expect(filterError('name =')).toBe('filter: expected a value for "name" at column 7, found end of input');
      expect(filterError('name = )')).toBe('filter: expected a value for "name" at column 8, found ")"');
      expect(filterError('AND = 1')).toBe('filter: expected a field name at column 1, found "AND"');
    });

    it('limits length, comparisons and nesting', () => {
      expect(filterError(`name = "${'x'.repeat(4096)}"`)).toBe(
        'filter: the expression is longer than 4096 characters',
      );
      const many = (n: number) => Array.from({ length: n }, (_, i) => `count = ${i}`).join(' OR ');
      expect(parseFilter(many(64), FIELDS)).toMatchObject({ kind: 'or' });
      expect(filterError(many(65))).toBe('filter: too many comparisons: at most 64 are allowed');
      expect(filterError(`${'('.repeat(33)}name=a${')'.repeat(33)}`)).toMatch(/^filter: expression nested too deeply/);
      expect(filterError(`${'-'.repeat(2000)}name=a`)).toMatch(/^filter: expression nested too deeply/);
      expect(parseFilter(`${'('.repeat(32)}name=a${')'.repeat(32)}`, FIELDS)).toEqual(cmp('name', '=', 'a'));
    });
  });

  it('throws nothing but INVALID_ARGUMENT on arbitrary input', () => {
    const grammarish = fc
      .array(
        fc.oneof(
          fc.constantFrom('name', 'state', 'createTime', 'count', 'active', 'status.code', 'AND', 'OR', 'NOT'),
          fc.constantFrom('=', '!=', '<', '<=', '>', '>=', ':', '(', ')', '-', '"', '\\', ' ', 'READY', 'true'),
          fc.constantFrom('2026-01-01T00:00:00Z', '1.5', '-3', '__proto__', 'constructor'),
          fc.string({ maxLength: 4 }),
        ),
        { maxLength: 40 },
      )
      .map((parts) => parts.join(''));
    const checkOne = (text: string) => {
      try {
        parseFilter(text, FIELDS);
      } catch (err) {
        if (!isApiError(err) || err.code !== 'INVALID_ARGUMENT' || !err.message.startsWith('filter: ')) throw err;
      }
    };
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), checkOne), { numRuns: 1000 });
    fc.assert(fc.property(grammarish, checkOne), { numRuns: 3000 });
  });
});

describe('parseOrderBy', () => {
  it('parses fields and directions', () => {
    expect(parseOrderBy(undefined, FIELDS)).toEqual([]);
    expect(parseOrderBy('  ', FIELDS)).toEqual([]);
    expect(parseOrderBy('createTime desc, name,count asc', FIELDS)).toEqual([
      { field: 'createTime', column: 'create_time', desc: true },
      { field: 'name', column: 'name', desc: false },
      { field: 'count', column: 'row_count', desc: false },
    ]);
  });

  it('rejects unknown and duplicate fields, bad directions and empty terms', () => {
    const orderError = (text: string) => errorOf(() => parseOrderBy(text, FIELDS));
    expect(orderError('size')).toBe(
      'orderBy: unknown field "size"; allowed fields: name, state, createTime, count, active, status.code',
    );
    expect(orderError('name, count desc, name desc')).toBe('orderBy: field "name" appears more than once');
    expect(orderError('name DESC')).toBe(
      'orderBy: "name DESC" is not of the form "field [asc|desc]" (the direction is lower case)',
    );
    expect(orderError('name desc asc')).toMatch(/is not of the form/);
    expect(orderError('name,,count')).toBe('orderBy: term 2 is empty');
    expect(orderError('name,')).toBe('orderBy: term 2 is empty');
    expect(orderError('__proto__')).toMatch(/^orderBy: unknown field "__proto__"/);
  });
});

describe('page tokens', () => {
  const fp = listFingerprint(parseFilter('name = a', FIELDS), parseOrderBy('count desc', FIELDS));

  it('round-trip', () => {
    const token = encodePageToken({ keys: ['x', 3, 2.5], fingerprint: fp });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, fp)).toEqual({ keys: ['x', 3, 2.5], fingerprint: fp });
  });

  it('fingerprints the normalised filter and orderBy', () => {
    expect(listFingerprint(parseFilter('  name="a"', FIELDS), parseOrderBy('count  desc', FIELDS))).toBe(fp);
    expect(listFingerprint(parseFilter('name = b', FIELDS), parseOrderBy('count desc', FIELDS))).not.toBe(fp);
    expect(listFingerprint(parseFilter('name = a', FIELDS), parseOrderBy('count', FIELDS))).not.toBe(fp);
    expect(listFingerprint(undefined, [], { scope: 'a' })).not.toBe(listFingerprint(undefined, [], { scope: 'b' }));
  });

  it('rejects a token issued for another filter or orderBy', () => {
    const token = encodePageToken({ keys: [1], fingerprint: fp });
    expect(errorOf(() => decodePageToken(token, 'other'))).toBe(
      'pageToken: the page token does not match the filter and orderBy it was issued for',
    );
  });

  it('rejects malformed tokens', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const bodies = ['null', '[]', '{"v":1,"k":{},"f":"x"}', '{"v":2,"k":[],"f":"x"}', '{"v":1,"k":[]}'];
    for (const bad of ['', '!!!', 'abc', ...bodies.map(b64)]) {
      expect(errorOf(() => decodePageToken(bad, fp))).toBe('pageToken: invalid page token');
    }
  });
});

describe('normalisePageSize', () => {
  it('defaults, caps and rejects', () => {
    expect(normalisePageSize(undefined)).toBe(50);
    expect(normalisePageSize(0)).toBe(50);
    expect(normalisePageSize(1)).toBe(1);
    expect(normalisePageSize(200)).toBe(200);
    expect(normalisePageSize(10_000)).toBe(200);
    expect(errorOf(() => normalisePageSize(-1))).toBe('pageSize: must not be negative, got -1');
    expect(errorOf(() => normalisePageSize(2.5))).toBe('pageSize: must be an integer, got 2.5');
  });
});

describe('applyReadMask', () => {
  const resource = {
    name: 'accounts/a/datasets/d',
    displayName: 'D',
    status: { code: 'OK', message: 'fine', details: { a: 1 } },
    tags: ['x'],
  };

  it('keeps everything for an empty mask or *', () => {
    expect(applyReadMask(resource, undefined)).toEqual(resource);
    expect(applyReadMask(resource, '')).toEqual(resource);
    expect(applyReadMask(resource, 'name,*')).toEqual(resource);
  });

  it('keeps top-level and dotted paths, ignoring unknown ones', () => {
    expect(applyReadMask(resource, 'name, status.code,nope,status.nope.deeper,tags.length')).toEqual({
      name: 'accounts/a/datasets/d',
      status: { code: 'OK' },
    });
    expect(applyReadMask(resource, 'status.details.a,status.message')).toEqual({
      status: { details: { a: 1 }, message: 'fine' },
    });
    expect(applyReadMask(resource, 'display_name')).toEqual({ displayName: 'D' });
  });

  it('merges a whole sub-object with its dotted paths without mutating the resource', () => {
    expect(applyReadMask(resource, 'status.code,status')).toEqual({ status: resource.status });
    expect(applyReadMask(resource, 'status,status.code')).toEqual({ status: resource.status });
    expect(resource.status).toEqual({ code: 'OK', message: 'fine', details: { a: 1 } });
  });

  it('ignores __proto__', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object;
    const masked = applyReadMask(hostile, '__proto__,a') as Record<string, unknown>;
    expect(masked).toEqual({ a: 1 });
    expect(Object.getPrototypeOf(masked)).toBe(Object.prototype);
  });
});
