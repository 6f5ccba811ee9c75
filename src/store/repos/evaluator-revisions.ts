import type { Kysely } from 'kysely';
import { EVALUATOR_STATES, type EvaluatorRecord, type EvaluatorRevision } from '../../domain/evaluators.js';
import type { ListFields } from '../../domain/listing.js';
import { alreadyExistsOnConflict } from '../conflicts.js';
import { listPage } from '../listing.js';
import type { EvaluatorRevisionRepo } from '../port.js';
import type { Database, EvaluatorRevisionsTable } from '../schema.js';

export const REVISION_LIST_FIELDS: ListFields = {
  revisionId: { column: 'id', type: 'string' },
  createTime: { column: 'create_time', type: 'timestamp' },
  seq: { column: 'seq', type: 'number' },
};

/** Reference §2.12: versions list newest first unless the client orders them otherwise. */
const NEWEST_FIRST = 'seq desc';

export function createEvaluatorRevisionRepo(db: Kysely<Database>): EvaluatorRevisionRepo {
  const of = (accountId: string, evaluatorId: string) =>
    db.selectFrom('evaluator_revisions').selectAll().where('account_id', '=', accountId).where('evaluator_id', '=', evaluatorId);
  return {
    async create(revision) {
      await alreadyExistsOnConflict(`revision "${revision.id}" of evaluator "${revision.evaluatorId}" already exists`, () =>
        db.insertInto('evaluator_revisions').values(toRow(revision)).execute(),
      );
    },
    async get(accountId, evaluatorId, id) {
      const row = await of(accountId, evaluatorId).where('id', '=', id).executeTakeFirst();
      return row && toRevision(row);
    },
    async latest(accountId, evaluatorId) {
      const row = await of(accountId, evaluatorId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
      return row && toRevision(row);
    },
    async findByAlias(accountId, evaluatorId, alias) {
      // Aliases are few per evaluator: the revisions are read and matched here, in both dialects alike.
      const rows = await of(accountId, evaluatorId).where('aliases', '!=', '[]').execute();
      const row = rows.find((r) => (JSON.parse(r.aliases) as string[]).includes(alias));
      return row && toRevision(row);
    },
    async list(accountId, evaluatorId, request) {
      const page = await listPage<EvaluatorRevisionsTable>(db, {
        table: 'evaluator_revisions',
        scope: { account_id: accountId, evaluator_id: evaluatorId },
        idColumn: 'id',
        fields: REVISION_LIST_FIELDS,
        request: { ...request, orderBy: request.orderBy?.trim() ? request.orderBy : NEWEST_FIRST },
      });
      return { items: page.rows.map(toRevision), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
    },
    async setAliases(accountId, evaluatorId, id, aliases) {
      await db
        .updateTable('evaluator_revisions')
        .set({ aliases: JSON.stringify(aliases) })
        .where('account_id', '=', accountId)
        .where('evaluator_id', '=', evaluatorId)
        .where('id', '=', id)
        .execute();
    },
    async delete(accountId, evaluatorId, id) {
      const result = await db.deleteFrom('evaluator_revisions').where('account_id', '=', accountId).where('evaluator_id', '=', evaluatorId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async deleteForEvaluator(accountId, evaluatorId) {
      const rows = await db
        .deleteFrom('evaluator_revisions')
        .where('account_id', '=', accountId)
        .where('evaluator_id', '=', evaluatorId)
        .returning('record')
        .execute();
      const blobs = rows.map((r) => (JSON.parse(r.record) as EvaluatorRecord).sourceBlobId).filter((b): b is string => b !== null);
      return [...new Set(blobs)];
    },
  };
}

function toRow(revision: EvaluatorRevision): EvaluatorRevisionsTable {
  return {
    account_id: revision.accountId,
    evaluator_id: revision.evaluatorId,
    id: revision.id,
    seq: revision.seq,
    create_time: revision.createTime,
    record: JSON.stringify(revision.snapshot),
    aliases: JSON.stringify(revision.aliases),
  };
}

function toRevision(row: EvaluatorRevisionsTable): EvaluatorRevision {
  const snapshot = JSON.parse(row.record) as EvaluatorRecord;
  if (!EVALUATOR_STATES.includes(snapshot.state)) snapshot.state = 'STATE_UNSPECIFIED';
  return {
    accountId: row.account_id,
    evaluatorId: row.evaluator_id,
    id: row.id,
    seq: Number(row.seq),
    createTime: row.create_time,
    snapshot,
    aliases: JSON.parse(row.aliases) as string[],
  };
}
