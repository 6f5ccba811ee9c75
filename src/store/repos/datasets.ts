import type { Kysely, Updateable } from 'kysely';
import type { ListFields } from '../../domain/listing.js';
import {
  DATASET_FORMATS,
  DATASET_STATES,
  type DatasetFormat,
  type DatasetRecord,
  type DatasetState,
  type ResourceStatus,
} from '../../domain/types.js';
import { alreadyExistsOnConflict } from '../conflicts.js';
import { listAccountPage } from '../listing.js';
import type { DatasetPatch, DatasetRepo } from '../port.js';
import type { Database, DatasetsTable } from '../schema.js';
import { deleteRows } from './row-blocks.js';

export const DATASET_LIST_FIELDS: ListFields = {
  datasetId: { column: 'id', type: 'string' },
  displayName: { column: 'display_name', type: 'string' },
  state: { column: 'state', type: 'enum', values: DATASET_STATES },
  format: { column: 'format', type: 'enum', values: DATASET_FORMATS },
  createTime: { column: 'create_time', type: 'timestamp' },
  updateTime: { column: 'update_time', type: 'timestamp' },
  exampleCount: { column: 'example_count', type: 'number' },
  createdBy: { column: 'created_by', type: 'string' },
};

export function createDatasetRepo(db: Kysely<Database>): DatasetRepo {
  const get = async (accountId: string, id: string): Promise<DatasetRecord | undefined> => {
    const row = await db
      .selectFrom('datasets')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRecord(row);
  };

  return {
    get,
    async create(record) {
      await alreadyExistsOnConflict(`dataset "${record.id}" already exists`, () =>
        db.insertInto('datasets').values(toRow(record)).execute(),
      );
    },
    list: (accountId, request) => listAccountPage(db, { table: 'datasets', accountId, fields: DATASET_LIST_FIELDS, request }, toRecord),
    async update(accountId, id, patch) {
      await db
        .updateTable('datasets')
        .set(patchToRow(patch))
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .execute();
      return get(accountId, id);
    },
    async delete(accountId, id) {
      return db.transaction().execute(async (tx) => {
        const row = await tx
          .deleteFrom('datasets')
          .where('account_id', '=', accountId)
          .where('id', '=', id)
          .returning('row_set_id')
          .executeTakeFirst();
        if (!row) return false;
        if (row.row_set_id !== null) await deleteRowSetIfUnused(tx, row.row_set_id);
        return true;
      });
    },
    async setUploadFiles(accountId, id, filenames) {
      await db.updateTable('datasets').set({ upload_files: JSON.stringify(filenames) }).where('account_id', '=', accountId).where('id', '=', id).execute();
    },
    async getUploadFiles(accountId, id) {
      const row = await db.selectFrom('datasets').select('upload_files').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return row?.upload_files ? (JSON.parse(row.upload_files) as string[]) : [];
    },
    async commitRows(accountId, id, { rowSetId, stats, updateTime }) {
      const replaced = await db.transaction().execute(async (tx) => {
        const current = await tx
          .selectFrom('datasets')
          .select('row_set_id')
          .where('account_id', '=', accountId)
          .where('id', '=', id)
          .executeTakeFirst();
        if (!current) return undefined;
        await tx
          .updateTable('datasets')
          .set({
            row_set_id: rowSetId,
            state: 'READY',
            status_code: 'OK',
            status_message: '',
            format: stats.format,
            example_count: stats.exampleCount,
            average_turn_count: stats.averageTurnCount,
            estimated_token_count: stats.estimatedTokenCount,
            update_time: updateTime,
          })
          .where('account_id', '=', accountId)
          .where('id', '=', id)
          .execute();
        return { previous: current.row_set_id };
      });
      if (!replaced) return undefined;
      // The old rows are unreachable once the pointer moved; dropping them may take a while for a
      // big dataset, so it happens after the swap rather than inside it.
      if (replaced.previous !== null && replaced.previous !== rowSetId) await deleteRowSetIfUnused(db, replaced.previous);
      return get(accountId, id);
    },
  };
}

/**
 * Drops a row set that no dataset points at and no unfinished job reads (a job keeps reading the
 * input rows it started with even if its dataset is re-uploaded or deleted meanwhile). A job
 * that finishes drops its input row set the same way; one a job's output derives from stays.
 */
export async function deleteRowSetIfUnused(db: Kysely<Database>, rowSetId: number): Promise<boolean> {
  const dataset = await db.selectFrom('datasets').select('id').where('row_set_id', '=', rowSetId).executeTakeFirst();
  const job = await db
    .selectFrom('evaluation_jobs')
    .select('id')
    .where('input_row_set_id', '=', rowSetId)
    .where('state', 'not in', ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'])
    .executeTakeFirst();
  if (dataset || job) return false;
  return deleteRowSet(db, rowSetId);
}

/**
 * Drops a row set's rows, unless a row set derives from it (an evaluation job's output reads the
 * input rows from it): it is dropped with the last of those. Dropping a derived row set then
 * drops its base if nothing else uses that. False when the row set stays.
 */
export async function deleteRowSet(db: Kysely<Database>, rowSetId: number): Promise<boolean> {
  const derived = await db.selectFrom('row_sets').select('id').where('base_row_set_id', '=', rowSetId).executeTakeFirst();
  if (derived) return false;
  const set = await db.selectFrom('row_sets').select('base_row_set_id').where('id', '=', rowSetId).executeTakeFirst();
  await deleteRows(db, rowSetId);
  await db.deleteFrom('row_sets').where('id', '=', rowSetId).execute();
  if (set?.base_row_set_id != null) await deleteRowSetIfUnused(db, Number(set.base_row_set_id));
  return true;
}

function patchToRow(patch: DatasetPatch): Updateable<DatasetsTable> {
  const row: Updateable<DatasetsTable> = { update_time: patch.updateTime };
  if (patch.displayName !== undefined) row.display_name = patch.displayName;
  if (patch.format !== undefined) row.format = patch.format;
  if (patch.exampleCount !== undefined) row.example_count = patch.exampleCount;
  if (patch.origin !== undefined) row.origin = JSON.stringify(patch.origin);
  if (patch.state !== undefined) row.state = patch.state;
  if (patch.status !== undefined) {
    row.status_code = patch.status.code;
    row.status_message = patch.status.message;
  }
  return row;
}

function toRow(record: DatasetRecord): DatasetsTable {
  return {
    account_id: record.accountId,
    id: record.id,
    display_name: record.displayName,
    created_by: record.createdBy,
    create_time: record.createTime,
    update_time: record.updateTime,
    state: record.state,
    status_code: record.status.code,
    status_message: record.status.message,
    format: record.format,
    example_count: record.exampleCount,
    average_turn_count: record.averageTurnCount,
    estimated_token_count: record.estimatedTokenCount,
    origin: JSON.stringify(record.origin),
    row_set_id: record.rowSetId,
    upload_files: '',
  };
}

function toRecord(row: DatasetsTable): DatasetRecord {
  return {
    accountId: row.account_id,
    id: row.id,
    displayName: row.display_name,
    createdBy: row.created_by,
    createTime: row.create_time,
    updateTime: row.update_time,
    state: row.state as DatasetState,
    status: { code: row.status_code, message: row.status_message } as ResourceStatus,
    format: row.format as DatasetFormat,
    exampleCount: Number(row.example_count),
    averageTurnCount: Number(row.average_turn_count),
    estimatedTokenCount: Number(row.estimated_token_count),
    origin: JSON.parse(row.origin) as DatasetRecord['origin'],
    rowSetId: row.row_set_id === null ? null : Number(row.row_set_id),
  };
}
