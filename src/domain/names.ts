import { randomBytes } from 'node:crypto';
import { invalidArgument } from './errors.js';

/** Resource ids: lowercase letters, digits and '-', a leading letter, no trailing '-', <= 63. */
export const ID_PATTERN = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

export type Collection =
  | 'datasets'
  | 'evaluators'
  | 'evaluationJobs'
  | 'leaderboards'
  | 'secrets'
  | 'apiKeys';

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Throws INVALID_ARGUMENT naming `field` when `id` is not a valid resource id. */
export function assertValidId(id: string, field: string): void {
  if (isValidId(id)) return;
  throw invalidArgument(
    `${field}: "${truncate(id)}" is not a valid id: use 1-63 lowercase letters, digits or '-', ` +
      `starting with a letter and not ending with '-'`,
  );
}

export function resourceName(accountId: string, collection: Collection, id: string): string {
  return `accounts/${accountId}/${collection}/${id}`;
}

/**
 * Parses `accounts/{a}/{collection}/{id}` (or a bare id, read as belonging to `accountId`) and
 * checks that it belongs to `accountId`. Throws INVALID_ARGUMENT naming `field` otherwise.
 */
export function parseResourceName(
  value: string,
  { accountId, collection, field }: { accountId: string; collection: Collection; field: string },
): { accountId: string; id: string } {
  if (!value.includes('/')) {
    assertValidId(value, field);
    return { accountId, id: value };
  }
  const parts = value.split('/');
  if (parts.length !== 4 || parts[0] !== 'accounts' || parts[2] !== collection) {
    throw invalidArgument(
      `${field}: "${truncate(value)}" is not a resource name of the form accounts/{account_id}/${collection}/{id}`,
    );
  }
  const [, owner = '', , id = ''] = parts;
  if (owner !== accountId) {
    throw invalidArgument(`${field}: "${truncate(value)}" belongs to another account than "${accountId}"`);
  }
  assertValidId(id, field);
  return { accountId: owner, id };
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A server-generated id: a letter then 11 lowercase alphanumerics (like Fireworks' job ids). */
export function generateId(): string {
  const bytes = randomBytes(12);
  let id = ID_ALPHABET[bytes[0]! % 26]!;
  for (let i = 1; i < bytes.length; i++) id += ID_ALPHABET[bytes[i]! % ID_ALPHABET.length]!;
  return id;
}

export function truncate(value: string, max = 80): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}

/**
 * A request may name only its own account's resources. Checks a name a body carries (a parent,
 * a resource name, a secret's name): `accounts/{other}/...` is refused naming `field`; bare ids
 * and other text are left to the field's own validation.
 */
export function assertOwnAccountName(value: string, { accountId, field }: { accountId: string; field: string }): void {
  if (!value.startsWith('accounts/')) return;
  const owner = value.split('/')[1] ?? '';
  if (owner === accountId) return;
  throw invalidArgument(
    `${field}: "${truncate(value)}" names the account "${truncate(owner, 63)}"; a request to account "${accountId}" may name only its own resources`,
  );
}

/** `parent` on a create is the account itself: `accounts/{accountId}`. */
export function assertOwnParent(value: string, { accountId, field }: { accountId: string; field: string }): void {
  assertOwnAccountName(value, { accountId, field });
  if (value !== `accounts/${accountId}`) throw invalidArgument(`${field}: "${truncate(value)}" is not "accounts/${accountId}"`);
}
