import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { deleteRowSet, deleteRowSetIfUnused } from './datasets.js';

/**
 * Row sets nothing points at: no dataset, no job (input or output), no signed URL's staged upload,
 * no row set derived from them. An upload killed midway (kill -9, a dropped connection the server
 * did not see end) leaves one. Only those created before `createdBefore` are taken, so a row set
 * being written right now (an upload, a job being created) is never mistaken for one.
 */
export async function sweepOrphanRowSets(db: Kysely<Database>, createdBefore: string): Promise<number> {
  const orphans = await db
    .selectFrom('row_sets as rs')
    .select('rs.id')
    .where('rs.create_time', '<', createdBefore)
    .where(({ not, exists, selectFrom, or }) =>
      not(
        or([
          exists(selectFrom('datasets').select('datasets.id').whereRef('datasets.row_set_id', '=', 'rs.id')),
          exists(selectFrom('evaluation_jobs').select('evaluation_jobs.id').whereRef('evaluation_jobs.input_row_set_id', '=', 'rs.id')),
          exists(selectFrom('evaluation_jobs').select('evaluation_jobs.id').whereRef('evaluation_jobs.output_row_set_id', '=', 'rs.id')),
          exists(selectFrom('signed_urls').select('signed_urls.token_hash').whereRef('signed_urls.staged_row_set_id', '=', 'rs.id')),
          exists(selectFrom('row_sets as d').select('d.id').whereRef('d.base_row_set_id', '=', 'rs.id')),
        ]),
      ),
    )
    .execute();
  let swept = 0;
  for (const { id } of orphans) if (await deleteRowSet(db, Number(id))) swept++;
  return swept;
}

/**
 * Drops expired signed URLs with what was PUT to them and never validated: a staged row set (unless
 * something uses it by now) and a staged archive blob (unless an evaluator holds it).
 */
export async function deleteExpiredUrls(db: Kysely<Database>, now: string): Promise<number> {
  const expired = await db
    .selectFrom('signed_urls')
    .select(['token_hash', 'staged_row_set_id', 'staged_blob_id'])
    .where('expire_time', '<', now)
    .execute();
  for (const url of expired) {
    await db.deleteFrom('signed_urls').where('token_hash', '=', url.token_hash).execute();
    if (url.staged_row_set_id !== null) await deleteRowSetIfUnused(db, Number(url.staged_row_set_id));
    if (url.staged_blob_id !== null) await deleteBlobIfUnused(db, url.staged_blob_id);
  }
  return expired.length;
}

async function deleteBlobIfUnused(db: Kysely<Database>, blobId: string): Promise<void> {
  const holder = await db
    .selectFrom('evaluators')
    .select('id')
    .where((eb) => eb.or([eb('source_blob_id', '=', blobId), eb('build_log_blob_id', '=', blobId)]))
    .executeTakeFirst();
  if (holder) return;
  await db.deleteFrom('blob_chunks').where('blob_id', '=', blobId).execute();
  await db.deleteFrom('blobs').where('id', '=', blobId).execute();
}
