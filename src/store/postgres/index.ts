import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createKyselyStore, migrateToLatest } from '../kysely-store.js';
import type { Store } from '../port.js';
import type { Database } from '../schema.js';

const INT8_OID = 20;

/**
 * int8 columns (row counts, ids) come back as numbers: every value Tally stores there is far below
 * 2^53. The parser is set on this pool only, not globally on the pg module.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export async function openPostgresStore(url: string, { poolSize = 10 } = {}): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: types as pg.CustomTypesConfig });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrateToLatest(db, 'postgres');
  return createKyselyStore(db, 'postgres');
}
