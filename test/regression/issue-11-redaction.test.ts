import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from '../support/server.js';

const TOKEN = 'tok_9c2e71d04ab35f68';
// What `ep upload` makes of a .env with DEBUG=1 and a one-letter value, next to a real token.
const SECRETS = { DEBUG: '1', SHORT_E: 'e', SHORT_INE: 'ine', API_TOKEN: TOKEN };
const EVALUATE = [
  'import os',
  'print("wrote 1 inline file at import; token", os.environ["API_TOKEN"])',
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    print("scored 1 line inline; token", os.environ["API_TOKEN"], "debug", os.environ["DEBUG"])',
  '    return {"score": 1.0, "reason": "fine"}',
  '',
].join('\n');

describe('issue 11: redaction keeps logs readable and short values unseen', () => {
  let t: TestServer;
  const a = () => `/v1/accounts/${t.accountId}`;
  const signed = async (path: string, field: string) => {
    const url = (await t.call('GET', `${a()}${path}`)).json[field] as string;
    return (await t.call('GET', url, { key: null })).text;
  };

  beforeAll(async () => {
    t = await startTestServer('sqlite', { workerSlots: 1 });
    for (const [keyName, value] of Object.entries(SECRETS)) {
      const created = await t.call('POST', `${a()}/secrets`, { body: { keyName, value, name: keyName.toLowerCase().replace(/_/g, '-') } });
      expect(created.status, created.text).toBe(200);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('redacts the token in the build and execution logs and leaves 1- and 3-character values in place', async () => {
    const created = await t.call('POST', `${a()}/evaluatorsV2`, {
      body: { evaluatorId: 'printer', evaluator: { criteria: [{ name: 'p', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }] } },
    });
    expect(created.status, created.text).toBe(200);
    const built = await waitFor(t, `${a()}/evaluators/printer`, (e) => e['state'] !== 'BUILDING');
    expect(built['state'], JSON.stringify(built['status'])).toBe('ACTIVE');
    const buildLog = await signed('/evaluators/printer:getBuildLogEndpoint', 'buildLogSignedUri');
    expect(buildLog).toContain('wrote 1 inline file at import; token [redacted API_TOKEN]');
    expect(buildLog).not.toContain(TOKEN);

    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: 'in' } });
    const rows = [{ messages: [{ role: 'user', content: 'q' }] }];
    expect((await t.call('POST', `${a()}/datasets/in:upload`, { body: multipartBody(jsonlFile(rows)) })).status).toBe(200);
    const job = await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: 'job', evaluationJob: { evaluator: 'accounts/acme/evaluators/printer', inputDataset: 'accounts/acme/datasets/in', outputDataset: 'accounts/acme/datasets/out' } },
    });
    expect(job.status, job.text).toBe(200);
    const done = await waitFor(t, `${a()}/evaluationJobs/job`, (j) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(j['state'] as string));
    expect(done['state'], JSON.stringify(done['status'])).toBe('JOB_STATE_COMPLETED');
    const log = await signed('/evaluationJobs/job:getExecutionLogEndpoint', 'executionLogSignedUri');
    expect(log).toContain('scored 1 line inline; token [redacted API_TOKEN] debug 1');
    expect(log).not.toContain(TOKEN);
    for (const text of [buildLog, log]) {
      for (const keyName of ['DEBUG', 'SHORT_E', 'SHORT_INE']) expect(text).not.toContain(keyName);
    }
  });
});
