import { invalidArgument } from '../domain/errors.js';
import type { Store } from './port.js';
import { openPostgresStore } from './postgres/index.js';
import { openSqliteStore } from './sqlite/index.js';

export type * from './port.js';

/**
 * Opens the store a database URL names and brings its schema up to date:
 * `sqlite:/abs/path.db` (or a plain path) for the embedded store, `postgres://...` for PostgreSQL.
 */
export async function openStore({ url }: { url: string }): Promise<Store> {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgresStore(url);
  if (url.startsWith('sqlite:')) return openSqliteStore(url.slice('sqlite:'.length));
  if (url.includes('://')) throw invalidArgument(`database: unsupported database URL scheme in "${url.split('://')[0]}://"`);
  return openSqliteStore(url);
}
