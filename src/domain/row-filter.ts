import { parseFilter, type FilterExpr, type ListField, type ListFields } from './listing.js';

/**
 * Filters over dataset rows, with the same AIP-160 grammar as list filters (domain/listing.ts).
 * Any dotted path names a value inside the row (`ground_truth`, `input_metadata.row_id`); a literal
 * is compared by the type of the row's value: numerically for numbers, as true/false for booleans,
 * as text for strings; `null` matches null. A missing path matches nothing but `!=`.
 */
export function compileRowFilter(text: string): ((row: unknown) => boolean) | undefined {
  const expr = parseFilter(text, ANY_FIELD);
  return expr && ((row) => evaluate(expr, row));
}

const ANY_SPEC: ListField = { column: '', type: 'string' };
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

/** A field table that admits every well-formed path: rows have no fixed schema. */
const ANY_FIELD: ListFields = new Proxy({} as ListFields, {
  get: (_target, key) => (typeof key === 'string' && FIELD_NAME.test(key) ? { ...ANY_SPEC, column: key } : undefined),
  getOwnPropertyDescriptor: (_target, key) =>
    typeof key === 'string' && FIELD_NAME.test(key)
      ? { value: { ...ANY_SPEC, column: key }, enumerable: true, configurable: true, writable: false }
      : undefined,
  ownKeys: () => [],
});

function evaluate(expr: FilterExpr, row: unknown): boolean {
  switch (expr.kind) {
    case 'and':
      return expr.items.every((item) => evaluate(item, row));
    case 'or':
      return expr.items.some((item) => evaluate(item, row));
    case 'not':
      return !evaluate(expr.item, row);
    case 'compare':
      return compare(lookup(row, expr.field), expr.op, String(expr.value));
  }
}

function lookup(row: unknown, path: string): unknown {
  let value = row;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function compare(actual: unknown, op: string, literal: string): boolean {
  if (actual === undefined) return op === '!=';
  if (op === ':') return typeof actual === 'string' ? actual.includes(literal) : JSON.stringify(actual).includes(literal);
  const order = ordering(actual, literal);
  if (order === undefined) return op === '!=';
  switch (op) {
    case '=': return order === 0;
    case '!=': return order !== 0;
    case '<': return order < 0;
    case '<=': return order <= 0;
    case '>': return order > 0;
    default: return order >= 0;
  }
}

/** Sign of actual - literal, or undefined when they cannot be compared. */
function ordering(actual: unknown, literal: string): number | undefined {
  if (actual === null) return literal === 'null' ? 0 : undefined;
  if (typeof actual === 'number') {
    const n = Number(literal);
    return literal.trim() === '' || Number.isNaN(n) ? undefined : Math.sign(actual - n);
  }
  if (typeof actual === 'boolean') return literal === 'true' || literal === 'false' ? Number(actual) - Number(literal === 'true') : undefined;
  if (typeof actual === 'string') return actual < literal ? -1 : actual > literal ? 1 : 0;
  return undefined;
}
