import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

const scoring = (score: number) => `def evaluate(messages, ground_truth=None, tools=None, **kwargs):\n    return ${score}\n`;
const criteria = (score: number) => [{ type: 'CODE_SNIPPETS', name: 'c', codeSnippets: { language: 'python', fileContents: { 'main.py': scoring(score) } } }];
const settled = (e: Record<string, unknown>) => e['state'] !== 'BUILDING';
const MINUTE = 60_000;
const finished = (j: Record<string, unknown>) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(String(j['state']));

/** Evaluator revisions (reference §2.12): every build is one; aliases; rollback; jobs run and show theirs. */
describe.each(STORE_KINDS)('evaluator revisions on %s', (kind) => {
  let t: TestServer;
  const a = () => `/v1/accounts/${t.accountId}`;
  const versions = () => `${a()}/evaluators/rev/versions`;
  const ids = async (query = '') => ((await t.call('GET', `${versions()}${query}`)).json['evaluatorVersions'] as { name: string }[]).map((v) => v.name.split('/').pop());

  beforeAll(async () => {
    t = await startTestServer(kind);
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: 'rows' } });
    await t.call('POST', `${a()}/datasets/rows:upload`, { body: multipartBody(jsonlFile(Array.from({ length: 5 }, (_, i) => ({ messages: [{ role: 'user', content: String(i) }] })))) });
  });
  afterAll(async () => {
    await t.close();
  });

  async function job(id: string, extra: Record<string, unknown> = {}, leaderboardIds?: string[]) {
    const created = await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: id, evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/rev`, inputDataset: `accounts/${t.accountId}/datasets/rows`, outputDataset: `accounts/${t.accountId}/datasets/${id}-out`, ...extra }, ...(leaderboardIds ? { leaderboardIds } : {}) },
    });
    expect(created.status, created.text).toBe(200);
    return waitFor(t, `${a()}/evaluationJobs/${id}`, finished);
  }

  it('makes a revision per build, aliases them, pins jobs to them and rolls back without a rebuild', async () => {
    await t.call('POST', `${a()}/evaluatorsV2`, { body: { evaluatorId: 'rev', evaluator: { criteria: criteria(1) } } });
    expect(await waitFor(t, `${a()}/evaluators/rev`, settled)).toMatchObject({ state: 'ACTIVE', currentVersionId: 'v1' });
    const first = await t.call('GET', `${versions()}/v1`);
    expect(first.json).toMatchObject({ name: `accounts/${t.accountId}/evaluators/rev/versions/v1`, alternateIds: ['latest', 'current'], snapshot: { state: 'ACTIVE', currentVersionId: 'v1' } });
    expect(first.json['createTime']).toMatch(/^\d{4}-/);

    // New code: a new revision with its own build. Metadata only: none.
    await t.call('PATCH', `${a()}/evaluators/rev`, { body: { criteria: criteria(0) } });
    expect(await waitFor(t, `${a()}/evaluators/rev`, settled)).toMatchObject({ state: 'ACTIVE', currentVersionId: 'v2' });
    await t.call('PATCH', `${a()}/evaluators/rev`, { body: { displayName: 'renamed' } });
    expect(await ids()).toEqual(['v2', 'v1']);
    expect((await t.call('GET', `${versions()}/latest`)).json['alternateIds']).toEqual(['latest', 'current']);
    expect((await t.call('GET', `${versions()}/v1`)).json['alternateIds']).toEqual([]);

    const aliased = await t.call('POST', `${versions()}/v1:alias`, { body: { aliasId: 'stable' } });
    expect(aliased.status, aliased.text).toBe(200);
    expect(aliased.json['alternateIds']).toEqual(['stable']);
    expect((await t.call('GET', `${versions()}/stable`)).json['name']).toMatch(/versions\/v1$/);
    expect((await t.call('POST', `${versions()}/v1:alias`, { body: { aliasId: 'latest' } })).status).toBe(400);
    expect((await t.call('POST', `${versions()}/v1:alias`, { body: { aliasId: 'Bad Alias' } })).json['message']).toMatch(/^aliasId/);

    // A pinned job runs its revision; an unpinned one the current; a leaderboard shows which.
    await t.call('POST', `${a()}/leaderboards`, { body: { leaderboard: { displayName: 'b' }, leaderboardId: 'board' } });
    const pinned = await job('pinned', { evaluatorVersion: 'stable' }, ['board']);
    expect(pinned).toMatchObject({ state: 'JOB_STATE_COMPLETED', evaluatorVersion: 'v1', metrics: { score: 1 } });
    const current = await job('current', {}, ['board']);
    expect(current).toMatchObject({ state: 'JOB_STATE_COMPLETED', evaluatorVersion: 'v2', metrics: { score: 0 } });
    const board = (await t.call('GET', `${a()}/leaderboards/board:listEvaluationJobs`)).json['evaluationJobs'] as { evaluatorVersion: string }[];
    expect(board.map((j) => j.evaluatorVersion)).toEqual(['v1', 'v2']);

    const rolled = await t.call('POST', `${versions()}/stable:rollback`, { body: {} });
    expect(rolled.status, rolled.text).toBe(200);
    expect(rolled.json).toMatchObject({ state: 'ACTIVE', currentVersionId: 'v1', status: { message: 'rolled back to revision v1' } });
    // No rebuild: no new revision, and a job runs the old code at once.
    expect(await ids()).toEqual(['v2', 'v1']);
    expect(await job('after-rollback')).toMatchObject({ evaluatorVersion: 'v1', metrics: { score: 1 } });
    // The job that ran v2 still reads back, results and all.
    expect((await t.call('GET', `${a()}/evaluationJobs/current`)).json).toMatchObject({ evaluatorVersion: 'v2', metrics: { score: 0 } });
    expect(((await t.call('GET', `${a()}/evaluationJobs/current:listResults`)).json['results'] as unknown[]).length).toBe(5);

    // Deleting an alias removes the alias; the current revision and Tally's own aliases stay.
    expect((await t.call('DELETE', `${versions()}/stable`)).json).toEqual({});
    expect((await t.call('GET', `${versions()}/stable`)).status).toBe(404);
    expect((await t.call('DELETE', `${versions()}/v1`)).status).toBe(400);
    expect((await t.call('DELETE', `${versions()}/latest`)).status).toBe(400);
    expect((await t.call('DELETE', `${versions()}/v2`)).status).toBe(200);
    expect(await ids()).toEqual(['v1']);
    expect((await t.call('GET', `${a()}/evaluationJobs/current`)).json['evaluatorVersion']).toBe('v2');
  }, 300_000);

  it('refuses to delete a revision an unfinished job runs, and deletes it once the job has finished', async () => {
    const slow = 'import time\ndef evaluate(messages, ground_truth=None, tools=None, **kwargs):\n    time.sleep(0.5)\n    return 1\n';
    await t.call('POST', `${a()}/evaluatorsV2`, { body: { evaluatorId: 'held', evaluator: { criteria: [{ type: 'CODE_SNIPPETS', name: 'c', codeSnippets: { language: 'python', fileContents: { 'main.py': slow } } }] } } });
    await waitFor(t, `${a()}/evaluators/held`, settled);
    await t.call('PATCH', `${a()}/evaluators/held`, { body: { criteria: criteria(0) } });
    await waitFor(t, `${a()}/evaluators/held`, (e) => e['currentVersionId'] === 'v2' && settled(e), MINUTE);
    const created = await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: 'held-job', evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/held`, inputDataset: `accounts/${t.accountId}/datasets/rows`, outputDataset: `accounts/${t.accountId}/datasets/held-out`, evaluatorVersion: 'v1' } },
    });
    expect(created.status, created.text).toBe(200);
    const refused = await t.call('DELETE', `${a()}/evaluators/held/versions/v1`);
    expect(refused.status).toBe(400);
    expect(refused.json['message']).toMatch(/^revision "v1" is the one job "held-job" runs \(JOB_STATE_(PENDING|RUNNING)\)/);
    expect(await waitFor(t, `${a()}/evaluationJobs/held-job`, finished)).toMatchObject({ state: 'JOB_STATE_COMPLETED', evaluatorVersion: 'v1', metrics: { score: 1 } });
    expect((await t.call('DELETE', `${a()}/evaluators/held/versions/v1`)).status).toBe(200);
  }, 300_000);

  it('pages, filters, orders and masks the list, and answers 404s naming the revision', async () => {
    await t.call('POST', `${a()}/evaluatorsV2`, { body: { evaluatorId: 'paged', evaluator: { criteria: criteria(1) } } });
    await waitFor(t, `${a()}/evaluators/paged`, settled);
    await t.call('PATCH', `${a()}/evaluators/paged`, { body: { criteria: criteria(0.5) } });
    await waitFor(t, `${a()}/evaluators/paged`, (e) => e['currentVersionId'] === 'v2' && settled(e), MINUTE);
    const base = `${a()}/evaluators/paged/versions`;
    const page1 = await t.call('GET', `${base}?pageSize=1`);
    expect(page1.json).toMatchObject({ totalSize: 2 });
    expect((page1.json['evaluatorVersions'] as { name: string }[])[0]!.name).toMatch(/v2$/);
    const page2 = await t.call('GET', `${base}?pageSize=1&pageToken=${encodeURIComponent(String(page1.json['nextPageToken']))}`);
    expect((page2.json['evaluatorVersions'] as { name: string }[])[0]!.name).toMatch(/v1$/);
    expect(page2.json['nextPageToken']).toBe('');
    const oldest = await t.call('GET', `${base}?orderBy=createTime&readMask=name`);
    expect(oldest.json['evaluatorVersions']).toEqual([{ name: `accounts/${t.accountId}/evaluators/paged/versions/v1` }, { name: `accounts/${t.accountId}/evaluators/paged/versions/v2` }]);
    const filtered = await t.call('GET', `${base}?filter=${encodeURIComponent('revisionId = "v1"')}`);
    expect(filtered.json['totalSize']).toBe(1);
    const missing = await t.call('GET', `${base}/v9`);
    expect(missing.status).toBe(404);
    expect(missing.json['message']).toContain('revision "v9"');
    expect((await t.call('GET', `${a()}/evaluators/nope/versions`)).status).toBe(404);
    const badPin = await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/paged`, inputDataset: `accounts/${t.accountId}/datasets/rows`, outputDataset: `accounts/${t.accountId}/datasets/bad-pin`, evaluatorVersion: 'v9' } },
    });
    expect(badPin.status).toBe(404);
    expect(badPin.json['message']).toMatch(/^evaluationJob\.evaluatorVersion: revision "v9"/);
  }, 300_000);
});
