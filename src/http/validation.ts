import { z } from 'zod';
import { invalidArgument } from '../domain/errors.js';

/** Parses `value` with `schema`; the error names every offending field, as `where.path: problem`. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => describeIssue(issue, where));
  throw invalidArgument(problems.join('; '));
}

function describeIssue(issue: z.core.$ZodIssue, where: string): string {
  const path = formatPath(where, issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath(where, [...issue.path, key])}: unknown field "${key}"`).join('; ');
  }
  return `${path}: ${issue.message}`;
}

export function formatPath(where: string, path: readonly PropertyKey[]): string {
  let out = where;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? 'body' : out;
}

/** proto3 JSON int64: a decimal string (or, leniently, a JSON integer). */
export const int64 = z
  .union([z.string().regex(/^-?\d{1,18}$/, 'expected an integer (a decimal string)'), z.number().int()])
  .transform((v) => Number(v));

/** Output-only fields clients may echo back; accepted and ignored, as grpc-gateway does. */
export const outputOnly = z.unknown().optional();

export const timestamp = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'expected an RFC 3339 timestamp');

export const listQuery = z.strictObject({
  pageSize: z.coerce.number().int('pageSize must be an integer').min(0, 'pageSize must not be negative').optional(),
  pageToken: z.string().max(4096).optional(),
  filter: z.string().max(4096).optional(),
  orderBy: z.string().max(1024).optional(),
  readMask: z.string().max(4096).optional(),
});

export const getQuery = z.strictObject({ readMask: z.string().max(4096).optional() });
