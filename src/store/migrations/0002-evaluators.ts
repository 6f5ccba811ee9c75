import type { Kysely } from 'kysely';
import type { Dialect } from '../port.js';

/** Evaluators, blobs (source archives, build logs) and the blob a signed upload staged. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('evaluators')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('flavour', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('create_time', 'text', (c) => c.notNull())
    .addColumn('update_time', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('status_code', 'text', (c) => c.notNull())
    .addColumn('status_message', 'text', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('source_blob_id', 'text')
    .addColumn('source_filename', 'text', (c) => c.notNull())
    .addColumn('build_generation', 'integer', (c) => c.notNull())
    .addColumn('build_request_time', 'text', (c) => c.notNull())
    .addColumn('build_log_blob_id', 'text')
    .addColumn('build_dir', 'text', (c) => c.notNull())
    .addColumn('env_hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('evaluators_pk', ['account_id', 'id'])
    .execute();

  await db.schema
    .createTable('blobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('create_time', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('blob_chunks')
    .addColumn('blob_id', 'text', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('blob_chunks_pk', ['blob_id', 'idx'])
    .execute();

  await db.schema.alterTable('signed_urls').addColumn('staged_blob_id', 'text').execute();
}
