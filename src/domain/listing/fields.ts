/**
 * What a listed resource offers to filter and order by (AIP-132), and the shapes the filter and
 * orderBy parsers produce for the store to compile to SQL (store/listing.ts).
 */
export type FieldType = 'string' | 'enum' | 'timestamp' | 'number' | 'boolean';

export interface ListField {
  /** The SQL column (a plain column name of the listed table). */
  column: string;
  type: FieldType;
  /** The allowed values of an enum field. */
  values?: readonly string[];
}

/** Keyed by the wire (lowerCamelCase) field name. */
export type ListFields = Record<string, ListField>;

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | ':';

export type FilterExpr =
  | { kind: 'and' | 'or'; items: FilterExpr[] }
  | { kind: 'not'; item: FilterExpr }
  | { kind: 'compare'; field: string; column: string; op: CompareOp; value: string | number | boolean };

export interface OrderTerm {
  field: string;
  column: string;
  desc: boolean;
}

/** Bounds the text of both a filter and an orderBy. */
export const MAX_FILTER_LENGTH = 4096;

export function allowedFields(fields: ListFields): string {
  return Object.keys(fields).join(', ');
}
