import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { startTestServer, waitFor, type TestServer } from './support/server.js';

const SCHEMA = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
const CRITERIA = [{ type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' }];

/** The OpenAI Evals face on both stores: a whole run, and one account's key never reaching another's evals. */
describe.each(STORE_KINDS)('OpenAI Evals face on %s', (kind) => {
  let t: TestServer;
  let otherKey: string;

  beforeAll(async () => {
    t = await startTestServer(kind);
    otherKey = (await t.server.services.accounts.createAccount({ accountId: 'other' })).key;
  });
  afterAll(async () => {
    await t.close();
  });

  it('runs an eval as a job, and keeps it from other accounts', async () => {
    const created = await t.call('POST', '/v1/evals', { body: { name: 'qa', data_source_config: { type: 'custom', item_schema: SCHEMA }, testing_criteria: CRITERIA } });
    expect(created.status).toBe(200);
    const evalId = created.json['id'] as string;
    const content = [{ item: { answer: 'a' }, sample: { output_text: 'a' } }, { item: { answer: 'b' }, sample: { output_text: 'c' } }];
    const run = await t.call('POST', `/v1/evals/${evalId}/runs`, { body: { data_source: { type: 'jsonl', source: { type: 'file_content', content } } } });
    expect(run.status).toBe(200);
    const runId = run.json['id'] as string;
    const done = await waitFor(t, `/v1/evals/${evalId}/runs/${runId}`, (r) => ['completed', 'failed'].includes(r['status'] as string));
    expect(done['status']).toBe('completed');
    expect(done['result_counts']).toEqual({ total: 2, passed: 1, failed: 1, errored: 0 });
    const jobId = (done['report_url'] as string).split('/').pop()!;
    const job = await t.call('GET', `/v1/accounts/acme/evaluationJobs/${jobId}`);
    expect(job.json['state']).toBe('JOB_STATE_COMPLETED');

    for (const path of [`/v1/evals/${evalId}`, `/v1/evals/${evalId}/runs/${runId}`, `/v1/evals/${evalId}/runs`, `/v1/evals/${evalId}/runs/${runId}/output_items`]) {
      const foreign = await t.call('GET', path, { key: otherKey });
      expect(foreign.status, path).toBe(404);
      expect((foreign.json['error'] as Record<string, unknown>)['type']).toBe('invalid_request_error');
    }
    expect((await t.call('GET', '/v1/evals', { key: otherKey })).json['data']).toEqual([]);
    expect((await t.call('DELETE', `/v1/evals/${evalId}`, { key: otherKey })).status).toBe(404);
    expect((await t.call('GET', '/v1/evals', { key: null })).status).toBe(401);

    expect((await t.call('DELETE', `/v1/evals/${evalId}`)).json).toEqual({ object: 'eval.deleted', deleted: true, eval_id: evalId });
    expect((await t.call('GET', `/v1/accounts/acme/evaluationJobs/${jobId}`)).status).toBe(404);
    expect((await t.call('GET', `/v1/accounts/acme/datasets/${jobId}`)).status).toBe(404);
  });

  it('answers bad input with OpenAI\'s error body naming the field', async () => {
    const bad = await t.call('POST', '/v1/evals', { body: { data_source_config: { type: 'custom', item_schema: SCHEMA }, testing_criteria: [{ ...CRITERIA[0], name: 1 }] } });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ error: { message: 'testing_criteria[0].name: is required and must be a string', type: 'invalid_request_error', param: 'testing_criteria[0].name', code: 'invalid_request' } });
    const limit = await t.call('GET', '/v1/evals?limit=500');
    expect(limit.status).toBe(400);
    expect((limit.json['error'] as Record<string, unknown>)['param']).toBe('limit');
  });
});
