import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl, STORE_KINDS, type StoreKind } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

const TOKEN = 'tok-3f9a1c77e0b24d5e';
const NEW_TOKEN = 'tok-new-8d2e55aa91c3';

// Prints the token at import (the build log) and per row (the execution log), and answers it as the reason.
const EVALUATE = [
  'import os',
  'print("import sees", os.environ.get("MY_TOKEN"))',
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    token = os.environ.get("MY_TOKEN")',
  '    print("token is", token)',
  '    return {"score": 1.0, "reason": token if token is not None else "no token"}',
  '',
].join('\n');

const finished = (j: Record<string, unknown>) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'].includes(j['state'] as string);

async function rawSecretRows(kind: StoreKind, url: string): Promise<Record<string, unknown>[]> {
  if (kind === 'sqlite') {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      return db.prepare('select * from secrets').all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>('select * from secrets')).rows;
  } finally {
    await client.end();
  }
}

describe.each(STORE_KINDS)('account secrets over HTTP on %s', (kind) => {
  let t: TestServer;
  let database: string;
  let otherKey: string;
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    database = await freshDatabaseUrl(kind);
    t = await startTestServer(kind, { database, workerSlots: 2 });
    otherKey = (await t.server.services.accounts.createAccount({ accountId: 'other' })).key;
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates with the ep upload body, reads, patches and deletes; the value is never returned', async () => {
    const missing = await t.call('GET', `${a()}/secrets/fireworks-api-key`);
    expect(missing.status).toBe(404);
    const created = await t.call('POST', `${a()}/secrets`, { body: { keyName: 'FIREWORKS_API_KEY', value: 'fw_supersecret1', name: 'fireworks-api-key' } });
    expect(created.status, created.text).toBe(200);
    expect(created.json).toEqual({ name: 'accounts/acme/secrets/fireworks-api-key', keyName: 'FIREWORKS_API_KEY', createTime: expect.any(String), updateTime: expect.any(String) });
    const got = await t.call('GET', `${a()}/secrets/fireworks-api-key`);
    expect(got.json).toEqual(created.json);
    const patched = await t.call('PATCH', `${a()}/secrets/fireworks-api-key`, { body: { keyName: 'FIREWORKS_API_KEY', value: 'fw_supersecret2' } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.text).not.toContain('fw_supersecret');
    expect(patched.json['updateTime'] as string >= (created.json['updateTime'] as string)).toBe(true);
    expect((await t.call('DELETE', `${a()}/secrets/fireworks-api-key`)).json).toEqual({});
    expect((await t.call('GET', `${a()}/secrets/fireworks-api-key`)).status).toBe(404);
    expect((await t.call('DELETE', `${a()}/secrets/fireworks-api-key`)).status).toBe(404);
  });

  it('creates with the AIP body and a full resource name, and lists pages without values', async () => {
    const aip = await t.call('POST', `${a()}/secrets`, { body: { secret: { keyName: 'AIP_ONE', value: 'value-aip-one' }, secretId: 'aip-one' } });
    expect(aip.status, aip.text).toBe(200);
    expect(aip.json).toMatchObject({ name: 'accounts/acme/secrets/aip-one', keyName: 'AIP_ONE' });
    const full = await t.call('POST', `${a()}/secrets`, { body: { keyName: 'AIP_TWO', value: 'value-aip-two', name: 'accounts/acme/secrets/aip-two' } });
    expect(full.json).toMatchObject({ name: 'accounts/acme/secrets/aip-two', keyName: 'AIP_TWO' });
    const first = await t.call('GET', `${a()}/secrets?pageSize=1`);
    expect(first.json).toMatchObject({ secrets: [{ name: 'accounts/acme/secrets/aip-one' }], totalSize: 2 });
    const second = await t.call('GET', `${a()}/secrets?pageSize=1&pageToken=${encodeURIComponent(first.json['nextPageToken'] as string)}`);
    expect(second.json).toMatchObject({ secrets: [{ name: 'accounts/acme/secrets/aip-two' }], nextPageToken: '' });
    const all = await t.call('GET', `${a()}/secrets`);
    expect(all.text).not.toContain('value-aip');
    expect((all.json['secrets'] as object[]).every((s) => !('value' in s))).toBe(true);
    const dup = await t.call('POST', `${a()}/secrets`, { body: { keyName: 'AIP_ONE', value: 'x', name: 'aip-three' } });
    expect(dup.status).toBe(409);
    const dupId = await t.call('POST', `${a()}/secrets`, { body: { keyName: 'AIP_THREE', value: 'x', name: 'aip-one' } });
    expect(dupId.status).toBe(409);
  });

  it('refuses a keyName that is no environment variable name or one Tally sets, naming keyName', async () => {
    for (const keyName of ['lower_case', '1ABC', 'HAS-DASH', '', 'PATH', 'HOME', 'PYTHONPATH', 'LD_PRELOAD']) {
      const response = await t.call('POST', `${a()}/secrets`, { body: { keyName, value: 'v', name: 'bad-key' } });
      expect(response.status, keyName).toBe(400);
      expect(response.json['message'], keyName).toMatch(/^keyName/);
    }
    const patch = await t.call('PATCH', `${a()}/secrets/aip-one`, { body: { keyName: 'PATH' } });
    expect(patch.status).toBe(400);
    expect(patch.json['message']).toMatch(/^keyName/);
    expect((await t.call('POST', `${a()}/secrets`, { body: { keyName: 'NO_VALUE', name: 'no-value' } })).status).toBe(400);
  });

  it("answers 403 to another account's key", async () => {
    for (const [method, path, body] of [
      ['GET', '/secrets', undefined], ['GET', '/secrets/aip-one', undefined], ['DELETE', '/secrets/aip-one', undefined],
      ['PATCH', '/secrets/aip-one', { value: 'stolen' }], ['POST', '/secrets', { keyName: 'X', value: 'y', name: 'x' }],
    ] as const) {
      const response = await t.call(method, `${a()}${path}`, { key: otherKey, body });
      expect(response.status, `${method} ${path}`).toBe(403);
    }
    expect((await t.call('GET', `${a()}/secrets/aip-one`)).status).toBe(200);
  });

  it('keeps only ciphertext in the database', async () => {
    const rows = await rawSecretRows(kind, database);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const dump = JSON.stringify(rows);
    for (const value of ['value-aip-one', 'value-aip-two']) {
      expect(dump).not.toContain(value);
      expect(dump).not.toContain(Buffer.from(value).toString('base64'));
    }
    for (const row of rows) expect(Buffer.from(row['nonce'] as string, 'base64')).toHaveLength(12);
  });

  it("gives a job's evaluator its own account's secrets only, and redacts them from the logs", async () => {
    const own = (await t.call('POST', `${a()}/secrets`, { body: { keyName: 'MY_TOKEN', value: TOKEN, name: 'my-token' } }));
    expect(own.status, own.text).toBe(200);
    const acme = await runJob(t, 'acme', undefined);
    expect(acme.reasons).toEqual([TOKEN, TOKEN]);
    expect(acme.log).toContain('token is [redacted MY_TOKEN]');
    expect(acme.log).not.toContain(TOKEN);
    expect(acme.buildLog).toContain('import sees [redacted MY_TOKEN]');
    expect(acme.buildLog).not.toContain(TOKEN);

    const other = await runJob(t, 'other', otherKey);
    expect(other.reasons).toEqual(['no token', 'no token']);
    expect(other.log).toContain('token is None');

    await t.call('PATCH', `${a()}/secrets/my-token`, { body: { keyName: 'MY_TOKEN', value: NEW_TOKEN } });
    const changed = await runJob(t, 'acme', undefined, 'again');
    expect(changed.reasons).toEqual([NEW_TOKEN, NEW_TOKEN]);
    expect(changed.log).not.toContain(NEW_TOKEN);
  });
});

/** Builds an evaluator in `account` (once), runs a two-row job on it, answers reasons and logs. */
async function runJob(t: TestServer, account: string, key: string | undefined, suffix = 'first') {
  const a = `/v1/accounts/${account}`;
  const as = { key };
  const evaluator = await t.call('GET', `${a}/evaluators/env-reader`, as);
  if (evaluator.status === 404) {
    const created = await t.call('POST', `${a}/evaluatorsV2`, {
      ...as,
      body: { evaluatorId: 'env-reader', evaluator: { criteria: [{ name: 'env', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }] } },
    });
    expect(created.status, created.text).toBe(200);
  }
  const poll = (path: string, done: (r: Record<string, unknown>) => boolean) => waitFor({ ...t, call: (m, p, i) => t.call(m, p, { ...i, key }) }, path, done);
  const built = await poll(`${a}/evaluators/env-reader`, (e) => e['state'] !== 'BUILDING');
  expect(built['state'], JSON.stringify(built['status'])).toBe('ACTIVE');
  const input = `in-${suffix}`;
  await t.call('POST', `${a}/datasets`, { ...as, body: { dataset: {}, datasetId: input } });
  const rows = [0, 1].map((i) => ({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'a' }], ground_truth: 'a' }));
  expect((await t.call('POST', `${a}/datasets/${input}:upload`, { ...as, body: multipartBody(jsonlFile(rows)) })).status).toBe(200);
  const job = `job-${suffix}`;
  const created = await t.call('POST', `${a}/evaluationJobs`, {
    ...as,
    body: { evaluationJobId: job, evaluationJob: { evaluator: `accounts/${account}/evaluators/env-reader`, inputDataset: `accounts/${account}/datasets/${input}`, outputDataset: `accounts/${account}/datasets/${job}-out` } },
  });
  expect(created.status, created.text).toBe(200);
  const done = await poll(`${a}/evaluationJobs/${job}`, finished);
  expect(done['state'], JSON.stringify(done['status'])).toBe('JOB_STATE_COMPLETED');
  const results = await t.call('GET', `${a}/evaluationJobs/${job}:listResults?orderBy=index`, as);
  const reasons = (results.json['results'] as { row: { evaluation_result: { reason: string } } }[]).map((r) => r.row.evaluation_result.reason.replace(/^env: /, '')); // criteria prefix their name
  const logUrl = (await t.call('GET', `${a}/evaluationJobs/${job}:getExecutionLogEndpoint`, as)).json['executionLogSignedUri'] as string;
  const log = (await t.call('GET', logUrl, { key: null })).text;
  const buildLogUrl = (await t.call('GET', `${a}/evaluators/env-reader:getBuildLogEndpoint`, as)).json['buildLogSignedUri'] as string;
  const buildLog = (await t.call('GET', buildLogUrl, { key: null })).text;
  return { reasons, log, buildLog };
}
