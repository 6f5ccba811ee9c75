import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../port.js';

/**
 * Row blocks: a run of consecutive rows of one row set stored as one value (see
 * repos/row-blocks.ts). A job writes each chunk's output rows as one block.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const blocks = db.schema
    .createTable('row_blocks')
    .addColumn('row_set_id', 'bigint', (c) => c.notNull())
    .addColumn('first_idx', 'integer', (c) => c.notNull())
    .addColumn('last_idx', 'integer', (c) => c.notNull())
    // JSON array: where each row's text ends in `data`, in UTF-16 code units (JavaScript's).
    .addColumn('ends', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('row_blocks_pk', ['row_set_id', 'first_idx']);
  await (dialect === 'sqlite' ? blocks.modifyEnd(sql`without rowid`) : blocks).execute();
  await db.schema.createIndex('row_blocks_last').on('row_blocks').columns(['row_set_id', 'last_idx']).execute();
  // Blocks are written once and read whole: compressing them would cost more than it saves.
  if (dialect === 'postgres') await sql`alter table row_blocks alter column data set storage external`.execute(db);
}
