import { describe, expect, it } from 'vitest';
import { checkItemSchema, itemProblem } from './item-schema.js';

const schema = checkItemSchema({
  type: 'object',
  properties: { q: { type: 'string', minLength: 1 }, n: { type: 'integer', minimum: 0 }, tags: { type: 'array', items: { enum: ['a', 'b'] } } },
  required: ['q'],
  additionalProperties: false,
});

describe('item schema subset', () => {
  it('accepts conforming items', () => {
    expect(itemProblem(schema, { q: 'x', n: 2, tags: ['a'] })).toBeUndefined();
  });
  it('names the first problem with its path', () => {
    expect(itemProblem(schema, { n: 1 })).toBe('item.q: is required by the item schema');
    expect(itemProblem(schema, { q: 'x', n: 1.5 })).toBe('item.n: expected integer, got number');
    expect(itemProblem(schema, { q: 'x', tags: ['a', 'c'] })).toBe('item.tags[1]: "c" is not one of ["a","b"]');
    expect(itemProblem(schema, { q: 'x', extra: 1 })).toBe('item.extra: not a property the item schema allows');
    expect(itemProblem(schema, { q: '' })).toBe('item.q: shorter than 1');
  });
  it('refuses a malformed schema at creation', () => {
    expect(() => checkItemSchema({ type: 'thing' })).toThrow(/item_schema.type: "thing" is not one of/);
    expect(() => checkItemSchema({ properties: { a: 3 } })).toThrow(/item_schema.properties.a: must be a JSON Schema object/);
    expect(() => checkItemSchema([])).toThrow(/must be a JSON Schema object/);
  });
});
