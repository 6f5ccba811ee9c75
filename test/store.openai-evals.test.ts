import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAiEvalRecord, OpenAiRunRecord } from '../src/domain/openai-evals.js';
import { nowIso } from '../src/domain/types.js';
import { openStore, type Store } from '../src/store/index.js';
import { freshDatabaseUrl, STORE_KINDS } from './support/databases.js';

/** The OpenAI Evals face's repo (migration 0017), the same on SQLite and PostgreSQL. */
describe.each(STORE_KINDS)('OpenAI evals repo on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openStore({ url: await freshDatabaseUrl(kind) });
    const now = nowIso();
    for (const id of ['acme', 'other']) await store.accounts.create({ id, displayName: id, createTime: now, updateTime: now });
  });
  afterEach(async () => {
    await store.close();
  });

  const evalRecord = (id: string, createdAt: number, accountId = 'acme'): OpenAiEvalRecord => ({
    accountId, id, createdAt, updatedAt: createdAt, evaluatorId: 'oai-graders-x',
    eval: { name: id, metadata: { k: 'v' }, data_source_config: { type: 'custom', schema: { type: 'object' } }, testing_criteria: [{ type: 'python', name: 'p', source: '' }] },
  });
  const runRecord = (id: string, evalId: string, createdAt: number): OpenAiRunRecord => ({
    accountId: 'acme', id, evalId, createdAt, jobId: `job-${id}`, run: { name: id, metadata: null, model: '', data_source: { type: 'jsonl' } },
  });

  it('pages evals by creation time then id, in both orders, from an `after` id', async () => {
    for (const [id, at] of [['eval_b', 100], ['eval_a', 100], ['eval_c', 50], ['eval_d', 200]] as const) await store.openaiEvals.createEval(evalRecord(id, at));
    await store.openaiEvals.createEval(evalRecord('eval_z', 1, 'other'));
    const ids = async (request: Parameters<Store['openaiEvals']['listEvals']>[1]) => {
      const page = await store.openaiEvals.listEvals('acme', request);
      return { ids: page.items.map((e) => e.id), hasMore: page.hasMore, afterFound: page.afterFound };
    };
    expect(await ids({ limit: 2, order: 'asc' })).toEqual({ ids: ['eval_c', 'eval_a'], hasMore: true, afterFound: true });
    expect(await ids({ limit: 2, order: 'asc', after: 'eval_a' })).toEqual({ ids: ['eval_b', 'eval_d'], hasMore: false, afterFound: true });
    expect(await ids({ limit: 10, order: 'desc', after: 'eval_b' })).toEqual({ ids: ['eval_a', 'eval_c'], hasMore: false, afterFound: true });
    expect(await ids({ limit: 10, order: 'asc', after: 'eval_z' })).toEqual({ ids: [], hasMore: false, afterFound: false });
    const got = await store.openaiEvals.getEval('acme', 'eval_a');
    expect(got).toEqual(evalRecord('eval_a', 100));
    expect(await store.openaiEvals.getEval('other', 'eval_a')).toBeUndefined();
  });

  it('updates an eval, and deleting it deletes its runs and hands back their jobs', async () => {
    await store.openaiEvals.createEval(evalRecord('eval_a', 10));
    await store.openaiEvals.updateEval({ ...evalRecord('eval_a', 10), updatedAt: 20, eval: { ...evalRecord('eval_a', 10).eval, name: 'renamed' } });
    expect((await store.openaiEvals.getEval('acme', 'eval_a'))?.eval.name).toBe('renamed');
    expect((await store.openaiEvals.listEvals('acme', { limit: 5, order: 'asc', orderColumn: 'updated_at' })).items[0]?.updatedAt).toBe(20);
    for (const [id, at] of [['run_1', 11], ['run_2', 12]] as const) await store.openaiEvals.createRun(runRecord(id, 'eval_a', at));
    const runs = await store.openaiEvals.listRuns('acme', 'eval_a', { limit: 1, order: 'desc' });
    expect(runs.items.map((r) => r.id)).toEqual(['run_2']);
    expect(runs.hasMore).toBe(true);
    expect((await store.openaiEvals.listRuns('acme', 'eval_a', { limit: 5, order: 'asc', jobStates: ['JOB_STATE_RUNNING'] })).items).toEqual([]);
    await store.openaiEvals.updateRun({ ...runRecord('run_1', 'eval_a', 11), run: { ...runRecord('run_1', 'eval_a', 11).run, summary: { result_counts: { total: 1, passed: 1, failed: 0, errored: 0 }, per_testing_criteria_results: [] } } });
    expect((await store.openaiEvals.getRun('acme', 'eval_a', 'run_1'))?.run.summary?.result_counts.passed).toBe(1);
    expect(await store.openaiEvals.deleteRun('acme', 'eval_a', 'run_1')).toBe(true);
    expect(await store.openaiEvals.deleteEval('acme', 'eval_a')).toEqual({ jobIds: ['job-run_2'] });
    expect(await store.openaiEvals.getRun('acme', 'eval_a', 'run_2')).toBeUndefined();
    expect(await store.openaiEvals.deleteEval('acme', 'eval_a')).toBeUndefined();
  });
});
