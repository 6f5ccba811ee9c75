import { alreadyExists } from '../domain/errors.js';

/** Unique-constraint violations, as SQLite (better-sqlite3) and PostgreSQL (pg) report them. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Runs an insert; a unique-constraint violation becomes ALREADY_EXISTS with `message`. */
export async function alreadyExistsOnConflict<T>(message: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (error: unknown) {
    if (isUniqueViolation(error)) throw alreadyExists(message);
    throw error;
  }
}
