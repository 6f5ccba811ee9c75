import type { Kysely } from 'kysely';
import type { Account } from '../../domain/types.js';
import type { AccountRepo } from '../port.js';
import type { Database } from '../schema.js';
import { alreadyExistsOnConflict } from '../conflicts.js';

export function createAccountRepo(db: Kysely<Database>): AccountRepo {
  return {
    async create(account) {
      await alreadyExistsOnConflict(`account "${account.id}" already exists`, () =>
        db
          .insertInto('accounts')
          .values({
            id: account.id,
            display_name: account.displayName,
            email: account.email ?? '',
            create_time: account.createTime,
            update_time: account.updateTime,
          })
          .execute(),
      );
    },
    async get(id) {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toAccount(row);
    },
    async list() {
      const rows = await db.selectFrom('accounts').selectAll().orderBy('id').execute();
      return rows.map(toAccount);
    },
  };
}

function toAccount(row: Database['accounts']): Account {
  return {
    id: row.id,
    displayName: row.display_name,
    email: row.email,
    createTime: row.create_time,
    updateTime: row.update_time,
  };
}
