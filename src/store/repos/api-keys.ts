import type { Kysely } from 'kysely';
import type { ListFields } from '../../domain/listing.js';
import type { ApiKeyRecord, Role } from '../../domain/types.js';
import { alreadyExistsOnConflict } from '../conflicts.js';
import { listAccountPage } from '../listing.js';
import type { ApiKeyRepo } from '../port.js';
import type { Database } from '../schema.js';

export const API_KEY_LIST_FIELDS: ListFields = {
  keyId: { column: 'id', type: 'string' },
  displayName: { column: 'display_name', type: 'string' },
  role: { column: 'role', type: 'enum', values: ['admin', 'user'] },
  createTime: { column: 'create_time', type: 'timestamp' },
};

export function createApiKeyRepo(db: Kysely<Database>): ApiKeyRepo {
  return {
    async create(key) {
      await alreadyExistsOnConflict(`API key "${key.id}" already exists`, () =>
        db.insertInto('api_keys').values(toRow(key)).execute(),
      );
    },
    async findByHash(keyHash) {
      const row = await db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
      return row && toRecord(row);
    },
    async get(accountId, id) {
      const row = await db
        .selectFrom('api_keys')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    list: (accountId, request) => listAccountPage(db, { table: 'api_keys', accountId, fields: API_KEY_LIST_FIELDS, request }, toRecord),
    async delete(accountId, id) {
      const result = await db
        .deleteFrom('api_keys')
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

function toRow(key: ApiKeyRecord): Database['api_keys'] {
  return {
    account_id: key.accountId,
    id: key.id,
    display_name: key.displayName,
    role: key.role,
    key_hash: key.keyHash,
    key_prefix: key.keyPrefix,
    create_time: key.createTime,
  };
}

function toRecord(row: Database['api_keys']): ApiKeyRecord {
  return {
    accountId: row.account_id,
    id: row.id,
    displayName: row.display_name,
    role: row.role as Role,
    keyHash: row.key_hash,
    keyPrefix: row.key_prefix,
    createTime: row.create_time,
  };
}
