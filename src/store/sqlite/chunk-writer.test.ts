import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { startChunkWriter } from './chunk-writer.js';
import { openSqliteStore } from './index.js';

describe('chunk writer thread', () => {
  it('starts a new thread after its thread died, and the next write goes through', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tally-writer-')), 'tally.db');
    const store = await openSqliteStore(path); // creates the schema
    const threads: Worker[] = [];
    const writer = startChunkWriter(path, ['busy_timeout = 5000'], { onThread: (thread) => threads.push(thread) });
    const claim = { candidate: { account_id: 'a', job_id: 'j', idx: 0, attempts: 0 }, owner: 'w', now: new Date().toISOString(), expireTime: new Date().toISOString() };
    expect(await writer.claimChunk(claim)).toBe(false); // no such chunk
    await threads[0]!.terminate();
    expect(await writer.claimChunk(claim)).toBe(false);
    expect(threads).toHaveLength(2);
    await writer.close();
    await expect(writer.claimChunk(claim)).rejects.toThrow(/closed/);
    await store.close();
  });
});
