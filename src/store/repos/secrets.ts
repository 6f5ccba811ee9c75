import type { Kysely } from 'kysely';
import type { ListFields } from '../../domain/listing.js';
import type { SecretRecord } from '../../domain/secrets.js';
import { alreadyExistsOnConflict } from '../conflicts.js';
import { listAccountPage } from '../listing.js';
import type { SecretRepo } from '../port.js';
import type { Database, SecretsTable } from '../schema.js';

export const SECRET_LIST_FIELDS: ListFields = {
  secretId: { column: 'id', type: 'string' },
  keyName: { column: 'key_name', type: 'string' },
  createTime: { column: 'create_time', type: 'timestamp' },
  updateTime: { column: 'update_time', type: 'timestamp' },
};

const conflictMessage = (record: Pick<SecretRecord, 'id' | 'keyName'>) =>
  `secret "${record.id}" or another secret with keyName "${record.keyName}" already exists`;

export function createSecretRepo(db: Kysely<Database>): SecretRepo {
  const get = async (accountId: string, id: string) => {
    const row = await db.selectFrom('secrets').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  };
  return {
    async create(record) {
      await alreadyExistsOnConflict(conflictMessage(record), () => db.insertInto('secrets').values(toRow(record)).execute());
    },
    get,
    list: (accountId, request) => listAccountPage(db, { table: 'secrets', accountId, fields: SECRET_LIST_FIELDS, request }, toRecord),
    async listAll(accountId) {
      const rows = await db.selectFrom('secrets').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
      return rows.map(toRecord);
    },
    async update(accountId, id, patch) {
      const values = {
        update_time: patch.updateTime,
        ...(patch.keyName !== undefined && { key_name: patch.keyName }),
        ...(patch.ciphertext !== undefined && { ciphertext: patch.ciphertext, nonce: patch.nonce ?? '', tag: patch.tag ?? '' }),
      };
      const result = await alreadyExistsOnConflict(`another secret with keyName "${patch.keyName ?? ''}" already exists`, () =>
        db.updateTable('secrets').set(values).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
      );
      return Number(result.numUpdatedRows) > 0 ? get(accountId, id) : undefined;
    },
    async delete(accountId, id) {
      const result = await db.deleteFrom('secrets').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

function toRow(record: SecretRecord): SecretsTable {
  return {
    account_id: record.accountId, id: record.id, key_name: record.keyName, ciphertext: record.ciphertext,
    nonce: record.nonce, tag: record.tag, create_time: record.createTime, update_time: record.updateTime,
  };
}

function toRecord(row: SecretsTable): SecretRecord {
  return {
    accountId: row.account_id, id: row.id, keyName: row.key_name, ciphertext: row.ciphertext,
    nonce: row.nonce, tag: row.tag, createTime: row.create_time, updateTime: row.update_time,
  };
}
