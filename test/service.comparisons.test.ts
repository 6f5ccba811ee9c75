import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nowIso } from '../src/domain/types.js';
import { createComparisonService } from '../src/services/comparisons.js';
import { openStore, type Store } from '../src/store/index.js';
import { finishedJob, inputRows } from '../bench/written-jobs.js';
import { freshDatabaseUrl } from './support/databases.js';

/** A leaderboard asks each job's summary against its leader at every look: summaries outlive the few comparisons kept. */
describe('comparison summaries', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore({ url: await freshDatabaseUrl('sqlite') });
    await store.accounts.create({ id: 'bench', displayName: 'b', createTime: nowIso(), updateTime: nowIso() });
  });
  afterEach(async () => {
    await store.close();
  });

  it('answers a summary again without reading the jobs\' results, after its comparison was evicted', async () => {
    const input = await inputRows(store, 40);
    for (const [id, mod] of [['leader', 1], ['b', 2], ['c', 3]] as const) await finishedJob(store, { id, input, rows: 40 }, (i) => (i % mod === 0 ? 1 : 0));
    const service = createComparisonService(store, { cachedComparisons: 1 });
    let reads = 0;
    const read = store.jobs.readChunkResults.bind(store.jobs);
    store.jobs.readChunkResults = (...args) => {
      reads++;
      return read(...args);
    };
    const first = await service.summary('bench', 'b', { baseline: 'leader' });
    expect(first.counts.regressed).toBe(20);
    await service.summary('bench', 'c', { baseline: 'leader' }); // the only comparison kept now
    const before = reads;
    expect(await service.summary('bench', 'b', { baseline: 'leader' })).toEqual(first);
    expect(reads).toBe(before);
    // A page needs the comparison itself: computed again, the same summary with it.
    const page = await service.page('bench', 'b', { baseline: 'leader', statuses: ['regressed'], order: 'diff', pageSize: 5, withRows: false });
    expect(reads).toBeGreaterThan(before);
    expect(page.summary).toEqual(first);
    expect(page.totalSize).toBe(20);
  });
});
