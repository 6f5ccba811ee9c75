import type { Kysely } from 'kysely';
import { nowIso } from '../../domain/types.js';
import type { RowRepo } from '../port.js';
import type { Database } from '../schema.js';
import { deleteRowSet, deleteRowSetIfUnused } from './datasets.js';
import { readRows } from './row-blocks.js';

/** Rows per INSERT statement: 3 parameters each keeps well under both engines' limits. */
const ROWS_PER_STATEMENT = 1000;

export function createRowRepo(db: Kysely<Database>): RowRepo {
  return {
    async createSet(accountId) {
      const row = await db
        .insertInto('row_sets')
        .values({ account_id: accountId, create_time: nowIso() })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },
    async append(rowSetId, start, rows) {
      if (rows.length === 0) return;
      await db.transaction().execute(async (tx) => {
        for (let offset = 0; offset < rows.length; offset += ROWS_PER_STATEMENT) {
          const slice = rows.slice(offset, offset + ROWS_PER_STATEMENT);
          const values = slice.map((data, i) => ({ row_set_id: rowSetId, idx: start + offset + i, data }));
          await tx.insertInto('rows').values(values).execute();
        }
      });
    },
    read: (rowSetId, afterIdx, limit) => readRows(db, rowSetId, afterIdx, limit),
    async deleteSet(rowSetId) {
      await deleteRowSet(db, rowSetId);
    },
    deleteSetIfUnused: (rowSetId) => deleteRowSetIfUnused(db, rowSetId),
  };
}
