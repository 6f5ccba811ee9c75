import { z } from 'zod';
import { listQuery } from '../validation.js';

/** `format=csv` (or `Accept: text/csv`) asks for CSV instead of JSON. */
export const csvFormat = z.enum(['json', 'csv'], { error: 'format: expected json or csv' }).optional();

export const listResultsQuery = listQuery.extend({ format: csvFormat });

export function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format) return format === 'csv';
  return /\btext\/csv\b/i.test(accept ?? '');
}

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
