import type { Kysely } from 'kysely';

/**
 * The files the last `:getUploadEndpoint` registered for a dataset (a JSON array, in the order
 * given; '' before any): `:validateUpload` makes their rows the dataset's, in that order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('datasets').addColumn('upload_files', 'text', (c) => c.notNull().defaultTo('')).execute();
}
