/** Pages of a list (AIP-158): page tokens bound to the list they continue, and page sizes. */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors.js';
import type { FilterExpr, OrderTerm } from './fields.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface PageToken {
  /** The sort-key values of the last row of the page, in order-by order (id last). */
  keys: unknown[];
  fingerprint: string;
}

const TOKEN_VERSION = 1;
const MAX_TOKEN_LENGTH = 8192;

/**
 * A short hash of whatever defines the list (normalised filter AST, order terms, scope): a token
 * only continues the list it was issued for.
 */
export function listFingerprint(filter: FilterExpr | undefined, orderBy: readonly OrderTerm[], scope?: unknown): string {
  const canonical = JSON.stringify([TOKEN_VERSION, filter ?? null, orderBy.map((t) => [t.column, t.desc]), scope ?? null]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

export function encodePageToken({ keys, fingerprint }: PageToken): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, k: keys, f: fingerprint })).toString('base64url');
}

/** Throws INVALID_ARGUMENT when the token is malformed or was issued for another filter/orderBy. */
export function decodePageToken(token: string, fingerprint: string): PageToken {
  let parsed: unknown;
  try {
    if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('bad characters');
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidArgument('pageToken: invalid page token');
  }
  const body = parsed as { v?: unknown; k?: unknown; f?: unknown } | null;
  const wellFormed =
    typeof body === 'object' && body !== null && body.v === TOKEN_VERSION && Array.isArray(body.k) && typeof body.f === 'string';
  if (!wellFormed) {
    throw invalidArgument('pageToken: invalid page token');
  }
  if (body.f !== fingerprint) {
    throw invalidArgument('pageToken: the page token does not match the filter and orderBy it was issued for');
  }
  return { keys: body.k as unknown[], fingerprint: body.f };
}

/** Unset or 0 means the default (50); above 200 is coerced to 200; negative is an error. */
export function normalisePageSize(value: number | undefined): number {
  if (value === undefined || value === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value)) throw invalidArgument(`pageSize: must be an integer, got ${value}`);
  if (value < 0) throw invalidArgument(`pageSize: must not be negative, got ${value}`);
  return Math.min(value, MAX_PAGE_SIZE);
}
