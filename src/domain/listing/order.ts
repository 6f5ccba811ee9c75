/** The AIP-132 orderBy parser: `"field [asc|desc], field2"` over a list's fields. */
import { invalidArgument } from '../errors.js';
import { truncate } from '../names.js';
import { allowedFields, MAX_FILTER_LENGTH, type ListField, type ListFields, type OrderTerm } from './fields.js';

/** Parses `"field [asc|desc], field2"`; blank means the default order (empty list). */
export function parseOrderBy(text: string | undefined, fields: ListFields): OrderTerm[] {
  if (text === undefined || text.trim() === '') return [];
  if (text.length > MAX_FILTER_LENGTH) {
    throw invalidArgument(`orderBy: longer than ${MAX_FILTER_LENGTH} characters`);
  }
  const terms: OrderTerm[] = [];
  text.split(',').forEach((part, index) => {
    const term = parseOrderTerm(part.trim(), index + 1, fields);
    if (terms.some((t) => t.field === term.field)) {
      throw invalidArgument(`orderBy: field "${term.field}" appears more than once`);
    }
    terms.push(term);
  });
  return terms;
}

/**
 * `name` (the SDKs' documented default order) sorts as the id does: within one account the
 * resource name is the id behind a fixed prefix, so both orders are the same.
 */
function orderField(field: string, fields: ListFields): ListField | undefined {
  if (Object.hasOwn(fields, field)) return fields[field];
  if (field === 'name') return Object.values(fields).find((spec) => spec.column === 'id');
  return undefined;
}

function parseOrderTerm(part: string, position: number, fields: ListFields): OrderTerm {
  if (part === '') throw invalidArgument(`orderBy: term ${position} is empty`);
  const [field = '', direction, ...rest] = part.split(/\s+/);
  const spec = orderField(field, fields);
  if (spec === undefined) {
    throw invalidArgument(`orderBy: unknown field "${truncate(field, 40)}"; allowed fields: ${allowedFields(fields)}`);
  }
  if (rest.length > 0 || (direction !== undefined && direction !== 'asc' && direction !== 'desc')) {
    throw invalidArgument(
      `orderBy: "${truncate(part, 60)}" is not of the form "field [asc|desc]" (the direction is lower case)`,
    );
  }
  return { field, column: spec.column, desc: direction === 'desc' };
}
