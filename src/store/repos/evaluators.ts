import type { Kysely, Updateable } from 'kysely';
import { EVALUATOR_STATES, type DeclaredRollout, type EvaluatorRecord, type EvaluatorSpec, type EvaluatorState } from '../../domain/evaluators.js';
import type { ListFields } from '../../domain/listing.js';
import type { ResourceStatus } from '../../domain/types.js';
import { alreadyExistsOnConflict } from '../conflicts.js';
import { listAccountPage } from '../listing.js';
import type { EvaluatorPatch, EvaluatorRepo } from '../port.js';
import type { Database, EvaluatorsTable } from '../schema.js';

export const EVALUATOR_LIST_FIELDS: ListFields = {
  evaluatorId: { column: 'id', type: 'string' },
  displayName: { column: 'display_name', type: 'string' },
  description: { column: 'description', type: 'string' },
  state: { column: 'state', type: 'enum', values: EVALUATOR_STATES },
  createTime: { column: 'create_time', type: 'timestamp' },
  updateTime: { column: 'update_time', type: 'timestamp' },
  createdBy: { column: 'created_by', type: 'string' },
};

export function createEvaluatorRepo(db: Kysely<Database>): EvaluatorRepo {
  const get = async (accountId: string, id: string): Promise<EvaluatorRecord | undefined> => {
    const row = await db
      .selectFrom('evaluators')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRecord(row);
  };
  return {
    get,
    async create(record) {
      await alreadyExistsOnConflict(`evaluator "${record.id}" already exists`, () =>
        db.insertInto('evaluators').values(toRow(record)).execute(),
      );
    },
    list: (accountId, request) => listAccountPage(db, { table: 'evaluators', accountId, fields: EVALUATOR_LIST_FIELDS, request }, toRecord),
    async update(accountId, id, patch, options = {}) {
      let query = db.updateTable('evaluators').set(patchToRow(patch)).where('account_id', '=', accountId).where('id', '=', id);
      if (options.ifGeneration !== undefined) query = query.where('build_generation', '=', options.ifGeneration);
      const result = await query.executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return undefined;
      return get(accountId, id);
    },
    async delete(accountId, id) {
      const row = await db
        .deleteFrom('evaluators')
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .returning(['source_blob_id', 'build_log_blob_id'])
        .executeTakeFirst();
      return row && { blobIds: [row.source_blob_id, row.build_log_blob_id].filter((b): b is string => b !== null) };
    },
    async listPendingBuilds() {
      const rows = await db.selectFrom('evaluators').selectAll().where('build_request_time', '!=', '').orderBy('build_request_time').execute();
      return rows.map(toRecord);
    },
  };
}

function patchToRow(patch: EvaluatorPatch): Updateable<EvaluatorsTable> {
  const row: Updateable<EvaluatorsTable> = { update_time: patch.updateTime };
  if (patch.displayName !== undefined) row.display_name = patch.displayName;
  if (patch.description !== undefined) row.description = patch.description;
  if (patch.state !== undefined) row.state = patch.state;
  if (patch.status !== undefined) {
    row.status_code = patch.status.code;
    row.status_message = patch.status.message;
  }
  if (patch.spec !== undefined) row.spec = JSON.stringify(patch.spec);
  if (patch.sourceBlobId !== undefined) row.source_blob_id = patch.sourceBlobId;
  if (patch.sourceFilename !== undefined) row.source_filename = patch.sourceFilename;
  if (patch.buildGeneration !== undefined) row.build_generation = patch.buildGeneration;
  if (patch.buildRequestTime !== undefined) row.build_request_time = patch.buildRequestTime;
  if (patch.buildLogBlobId !== undefined) row.build_log_blob_id = patch.buildLogBlobId;
  if (patch.buildDir !== undefined) row.build_dir = patch.buildDir;
  if (patch.envHash !== undefined) row.env_hash = patch.envHash;
  if (patch.mode !== undefined) row.mode = patch.mode;
  if (patch.declaredRollout !== undefined) row.declared_rollout = patch.declaredRollout ? JSON.stringify(patch.declaredRollout) : '';
  return row;
}

function toRow(r: EvaluatorRecord): EvaluatorsTable {
  return {
    account_id: r.accountId,
    id: r.id,
    flavour: r.flavour,
    display_name: r.displayName,
    description: r.description,
    created_by: r.createdBy,
    create_time: r.createTime,
    update_time: r.updateTime,
    state: r.state,
    status_code: r.status.code,
    status_message: r.status.message,
    spec: JSON.stringify(r.spec),
    source_blob_id: r.sourceBlobId,
    source_filename: r.sourceFilename,
    build_generation: r.buildGeneration,
    build_request_time: r.buildRequestTime,
    build_log_blob_id: r.buildLogBlobId,
    build_dir: r.buildDir,
    env_hash: r.envHash,
    mode: r.mode,
    declared_rollout: r.declaredRollout ? JSON.stringify(r.declaredRollout) : '',
  };
}

function toRecord(row: EvaluatorsTable): EvaluatorRecord {
  return {
    accountId: row.account_id,
    id: row.id,
    flavour: row.flavour as EvaluatorRecord['flavour'],
    displayName: row.display_name,
    description: row.description,
    createdBy: row.created_by,
    createTime: row.create_time,
    updateTime: row.update_time,
    state: row.state as EvaluatorState,
    status: { code: row.status_code, message: row.status_message } as ResourceStatus,
    spec: JSON.parse(row.spec) as EvaluatorSpec,
    sourceBlobId: row.source_blob_id,
    sourceFilename: row.source_filename,
    buildGeneration: Number(row.build_generation),
    buildRequestTime: row.build_request_time,
    buildLogBlobId: row.build_log_blob_id,
    buildDir: row.build_dir,
    envHash: row.env_hash,
    mode: row.mode as EvaluatorRecord['mode'],
    ...(row.declared_rollout ? { declaredRollout: JSON.parse(row.declared_rollout) as DeclaredRollout } : {}),
  };
}
