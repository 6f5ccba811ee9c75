import type { Kysely } from 'kysely';
import { nowIso } from '../../domain/types.js';
import type { RowRepo } from '../port.js';
import type { Database } from '../schema.js';
import { deleteRowSet, deleteRowSetIfUnused } from './datasets.js';
import { sweepOrphanRowSets } from './orphans.js';
import { readRows, readRowsAt, writeRows } from './row-blocks.js';

export function createRowRepo(db: Kysely<Database>): RowRepo {
  return {
    async createSet(accountId, options = {}) {
      const row = await db
        .insertInto('row_sets')
        .values({ account_id: accountId, create_time: nowIso(), base_row_set_id: options.base ?? null })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },
    async append(rowSetId, start, rows) {
      if (rows.length === 0) return;
      // In blocks (row-blocks.ts): a job then reads each chunk's input as one value, not a thousand.
      await db.transaction().execute((tx) => writeRows(tx, rowSetId, rows.map((text, i) => ({ idx: start + i, text }))));
    },
    read: (rowSetId, afterIdx, limit) => readRows(db, rowSetId, afterIdx, limit),
    readAt: (rowSetId, idxs) => readRowsAt(db, rowSetId, idxs),
    async deleteSet(rowSetId) {
      await deleteRowSet(db, rowSetId);
    },
    deleteSetIfUnused: (rowSetId) => deleteRowSetIfUnused(db, rowSetId),
    sweepOrphans: (createdBefore) => sweepOrphanRowSets(db, createdBefore),
  };
}
