import type { Kysely } from 'kysely';
import type { DatasetStats, SignedUrlRecord, UploadTargetKind } from '../../domain/types.js';
import type { SignedUrlRepo } from '../port.js';
import type { Database, SignedUrlsTable } from '../schema.js';
import { deleteExpiredUrls } from './orphans.js';

export function createSignedUrlRepo(db: Kysely<Database>): SignedUrlRepo {
  return {
    async create(record) {
      await db.insertInto('signed_urls').values(toRow(record)).execute();
    },
    async get(tokenHash) {
      const row = await db.selectFrom('signed_urls').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return row && toRecord(row);
    },
    async claim(tokenHash, usedTime) {
      // A conditional update is the claim: of two concurrent PUTs only one sees a changed row.
      const result = await db
        .updateTable('signed_urls')
        .set({ used_time: usedTime })
        .where('token_hash', '=', tokenHash)
        .where('used_time', '=', '')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async release(tokenHash) {
      await db.updateTable('signed_urls').set({ used_time: '' }).where('token_hash', '=', tokenHash).execute();
    },
    async stage(tokenHash, staged) {
      const set =
        'blobId' in staged
          ? { staged_blob_id: staged.blobId }
          : { staged_row_set_id: staged.rowSetId, staged_stats: JSON.stringify(staged.stats) };
      await db.updateTable('signed_urls').set(set).where('token_hash', '=', tokenHash).execute();
    },
    async listStaged(accountId, targetKind, targetId) {
      const rows = await db
        .selectFrom('signed_urls')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('target_kind', '=', targetKind)
        .where('target_id', '=', targetId)
        .where((eb) => eb.or([eb('staged_row_set_id', 'is not', null), eb('staged_blob_id', 'is not', null)]))
        .orderBy('used_time')
        .execute();
      return rows.map(toRecord);
    },
    async deleteForTarget(accountId, targetKind, targetId) {
      await db
        .deleteFrom('signed_urls')
        .where('account_id', '=', accountId)
        .where('target_kind', '=', targetKind)
        .where('target_id', '=', targetId)
        .execute();
    },
    deleteExpired: (now) => deleteExpiredUrls(db, now),
  };
}

function toRow(r: SignedUrlRecord): SignedUrlsTable {
  return {
    token_hash: r.tokenHash,
    account_id: r.accountId,
    purpose: r.purpose,
    target_kind: r.targetKind,
    target_id: r.targetId,
    filename: r.filename,
    size: r.size,
    expire_time: r.expireTime,
    used_time: r.usedTime,
    staged_row_set_id: r.stagedRowSetId,
    staged_stats: r.stagedStats === null ? null : JSON.stringify(r.stagedStats),
    staged_blob_id: r.stagedBlobId,
  };
}

function toRecord(row: SignedUrlsTable): SignedUrlRecord {
  return {
    tokenHash: row.token_hash,
    accountId: row.account_id,
    purpose: row.purpose as SignedUrlRecord['purpose'],
    targetKind: row.target_kind as UploadTargetKind,
    targetId: row.target_id,
    filename: row.filename,
    size: Number(row.size),
    expireTime: row.expire_time,
    usedTime: row.used_time,
    stagedRowSetId: row.staged_row_set_id === null ? null : Number(row.staged_row_set_id),
    stagedStats: row.staged_stats === null ? null : (JSON.parse(row.staged_stats) as DatasetStats),
    stagedBlobId: row.staged_blob_id,
  };
}
