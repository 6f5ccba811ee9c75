import type { Kysely } from 'kysely';
import { nowIso } from '../../domain/types.js';
import type { BlobRepo } from '../port.js';
import type { Database } from '../schema.js';

/** Blobs live in the store as 1 MiB chunks, so neither backend needs a file area to share. */
const CHUNK_BYTES = 1024 * 1024;

export function createBlobRepo(db: Kysely<Database>): BlobRepo {
  return {
    async write(accountId, id, source) {
      let idx = 0;
      let size = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async (final: boolean): Promise<void> => {
        while (pendingBytes >= CHUNK_BYTES || (final && pendingBytes > 0)) {
          const all = Buffer.concat(pending);
          const chunk = all.subarray(0, Math.min(CHUNK_BYTES, all.length));
          const rest = all.subarray(chunk.length);
          await db.insertInto('blob_chunks').values({ blob_id: id, idx: idx++, data: chunk }).execute();
          pending = rest.length > 0 ? [rest] : [];
          pendingBytes = rest.length;
        }
      };
      try {
        for await (const piece of source) {
          const buffer = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
          pending.push(Buffer.from(buffer));
          pendingBytes += buffer.length;
          size += buffer.length;
          await flush(false);
        }
        await flush(true);
        await db.insertInto('blobs').values({ id, account_id: accountId, size, create_time: nowIso() }).execute();
        return size;
      } catch (error: unknown) {
        await db.deleteFrom('blob_chunks').where('blob_id', '=', id).execute();
        throw error;
      }
    },
    async size(id) {
      const row = await db.selectFrom('blobs').select('size').where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : Number(row.size);
    },
    async *read(id) {
      for (let idx = 0; ; idx++) {
        const row = await db
          .selectFrom('blob_chunks')
          .select('data')
          .where('blob_id', '=', id)
          .where('idx', '=', idx)
          .executeTakeFirst();
        if (!row) return;
        yield row.data;
      }
    },
    async delete(id) {
      await db.deleteFrom('blob_chunks').where('blob_id', '=', id).execute();
      await db.deleteFrom('blobs').where('id', '=', id).execute();
    },
  };
}
