import type { Kysely } from 'kysely';
import type { Dialect } from '../port.js';

/** Account secrets: only the AES-256-GCM ciphertext, nonce and tag of each value (base64). */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('secrets')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('key_name', 'text', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('create_time', 'text', (c) => c.notNull())
    .addColumn('update_time', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('secrets_pk', ['account_id', 'id'])
    .addUniqueConstraint('secrets_key_name', ['account_id', 'key_name'])
    .execute();
}
