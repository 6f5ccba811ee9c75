import type { Kysely } from 'kysely';

/**
 * The SDK's Account type requires `email`; a job's `awsS3Config` is kept as sent (JSON, '' when
 * absent) so it reads back as stored, though Tally does not export to S3.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('email', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('evaluation_jobs').addColumn('aws_s3_config', 'text', (c) => c.notNull().defaultTo('')).execute();
}
