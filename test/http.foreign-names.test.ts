import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';

/** A body may name only the caller's own account: `accounts/other/...` is refused, naming the field. */
describe.each(STORE_KINDS)('foreign account names in bodies on %s', (kind) => {
  let t: TestServer;
  const a = '/v1/accounts/acme';

  beforeAll(async () => {
    t = await startTestServer(kind, { inProcessWorker: false });
  });
  afterAll(async () => {
    await t.close();
  });

  async function expectRefused(method: string, path: string, body: unknown, field: string): Promise<void> {
    const response = await t.call(method, path, { body });
    expect(response.status, response.text).toBe(400);
    expect(response.json['code']).toBe(3);
    expect(response.json['message']).toContain(`${field}: "accounts/other`);
    expect(response.json['message']).toContain('may name only its own resources');
  }

  it('refuses parent: accounts/other on every create, and accepts the own account', async () => {
    await expectRefused('POST', `${a}/datasets`, { dataset: {}, datasetId: 'd1', parent: 'accounts/other' }, 'parent');
    await expectRefused('POST', `${a}/evaluatorsV2`, { evaluator: { entryPoint: 'main.py::f' }, evaluatorId: 'e1', parent: 'accounts/other' }, 'parent');
    await expectRefused('POST', `${a}/evaluators`, { evaluator: {}, parent: 'accounts/other' }, 'parent');
    await expectRefused('POST', `${a}/secrets`, { name: 's1', keyName: 'K', value: 'v', parent: 'accounts/other' }, 'parent');
    await expectRefused('POST', `${a}/leaderboards`, { leaderboard: {}, leaderboardId: 'l1', parent: 'accounts/other' }, 'parent');
    await expectRefused('POST', `${a}/evaluationJobs`, { evaluationJob: { evaluator: 'e', inputDataset: 'i', outputDataset: 'o' }, parent: 'accounts/other' }, 'parent');
    expect((await t.call('GET', `${a}/datasets/d1`)).status).toBe(404);

    const own = await t.call('POST', `${a}/datasets`, { body: { dataset: {}, datasetId: 'd1', parent: 'accounts/acme' } });
    expect(own.status, own.text).toBe(200);
    const malformed = await t.call('POST', `${a}/datasets`, { body: { dataset: {}, datasetId: 'd2', parent: 'acme' } });
    expect(malformed.status).toBe(400);
    expect(malformed.json['message']).toContain('parent: "acme" is not "accounts/acme"');
  });

  it('refuses names of another account inside bodies, naming the field', async () => {
    const job = { evaluator: 'accounts/acme/evaluators/e', inputDataset: 'accounts/acme/datasets/i', outputDataset: 'accounts/acme/datasets/o' };
    await expectRefused('POST', `${a}/evaluationJobs`, { evaluationJob: { ...job, awsS3Config: { credentialsSecret: 'accounts/other/secrets/aws' } } }, 'evaluationJob.awsS3Config.credentialsSecret');
    await expectRefused('POST', `${a}/evaluationJobs`, { evaluationJob: job, leaderboardIds: ['accounts/other/leaderboards/b'] }, 'leaderboardIds[0]');
    await expectRefused('POST', `${a}/datasets`, { dataset: { sourceJobName: 'accounts/other/evaluationJobs/j' }, datasetId: 'd3' }, 'dataset.sourceJobName');
    await expectRefused('POST', `${a}/datasets`, { dataset: { name: 'accounts/other/datasets/d4' }, datasetId: 'd4' }, 'dataset.name');
    await expectRefused('PATCH', `${a}/datasets/d1`, { sourceJobName: 'accounts/other/evaluationJobs/j' }, 'sourceJobName');
    await expectRefused('POST', `${a}/evaluatorsV2`, { evaluator: { entryPoint: 'main.py::f', defaultDataset: 'accounts/other/datasets/x' }, evaluatorId: 'e2' }, 'evaluator.defaultDataset');
    await expectRefused('POST', `${a}/secrets`, { name: 'accounts/other/secrets/s', keyName: 'K', value: 'v' }, 'name');
    await expectRefused('POST', `${a}/evaluators/e/versions/v1:alias`, { aliasId: 'best', name: 'accounts/other/evaluators/e/versions/v1' }, 'name');
    await expectRefused('POST', `${a}/evaluators/e/versions/v1:rollback`, { name: 'accounts/other/evaluators/e/versions/v1' }, 'name');
    expect((await t.call('GET', `${a}/datasets/d3`)).status).toBe(404);
    expect((await t.call('GET', `${a}/evaluators/e2`)).status).toBe(404);
  });

  it('keeps lineage output-only: a client cannot fake where a dataset came from', async () => {
    const created = await t.call('POST', `${a}/datasets`, {
      body: { dataset: { evaluationResult: { evaluationJobId: 'j' }, transformed: { sourceDatasetId: 'accounts/other/datasets/x' }, splitted: { sourceDatasetId: 'y' } }, datasetId: 'fake' },
    });
    expect(created.status, created.text).toBe(200);
    expect(created.json).not.toHaveProperty('evaluationResult');
    expect(created.json).not.toHaveProperty('transformed');
    expect(created.json).not.toHaveProperty('splitted');
    const patched = await t.call('PATCH', `${a}/datasets/fake?updateMask=evaluationResult,displayName`, { body: { evaluationResult: { evaluationJobId: 'j' }, displayName: 'n' } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json).toMatchObject({ displayName: 'n' });
    expect(patched.json).not.toHaveProperty('evaluationResult');
  });
});
