import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** Distinct owners of live chunk leases whose name starts with `prefix`. */
export async function leaseOwnersWithPrefix(db: Kysely<Database>, prefix: string): Promise<string[]> {
  const rows = await db
    .selectFrom('job_chunks')
    .select('lease_owner')
    .distinct()
    .where('state', '=', 'leased')
    // substr, not LIKE: a host name may hold '_', which LIKE reads as a wildcard.
    .where(sql<string>`substr(lease_owner, 1, ${prefix.length})`, '=', prefix)
    .execute();
  return rows.map((r) => r.lease_owner);
}

/** Gives every chunk leased by `owner` back (pending, its attempt counted); how many. */
export async function releaseLeasesOf(db: Kysely<Database>, owner: string): Promise<number> {
  const result = await db
    .updateTable('job_chunks')
    .set({ state: 'pending', lease_owner: '', lease_expire_time: '' })
    .where('state', '=', 'leased')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
