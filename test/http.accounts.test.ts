import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';

describe.each(STORE_KINDS)('accounts, keys and auth over HTTP on %s', (kind) => {
  let t: TestServer;
  let otherKey: string;

  beforeAll(async () => {
    t = await startTestServer(kind);
    const other = await t.server.services.accounts.createAccount({ accountId: 'other' });
    otherKey = other.key;
    await t.call('POST', `/v1/accounts/${t.accountId}/datasets`, { body: { dataset: {}, datasetId: 'private' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 401 without a key or with an unknown one', async () => {
    const none = await t.call('GET', `/v1/accounts/${t.accountId}/datasets`, { key: null });
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ code: 16, message: expect.stringContaining('Authorization'), details: [] });
    const wrong = await t.call('GET', `/v1/accounts/${t.accountId}/datasets`, { key: 'tly_not-a-real-key' });
    expect(wrong.status).toBe(401);
  });

  it("answers 403 to another account's key, never the resource", async () => {
    for (const path of ['/datasets', '/datasets/private', '/datasets/private:getDownloadEndpoint', '/apiKeys']) {
      const response = await t.call('GET', `/v1/accounts/${t.accountId}${path}`, { key: otherKey });
      expect(response.status, path).toBe(403);
      expect(response.text).not.toContain('private"');
    }
    const del = await t.call('DELETE', `/v1/accounts/${t.accountId}/datasets/private`, { key: otherKey });
    expect(del.status).toBe(403);
    expect((await t.call('GET', `/v1/accounts/${t.accountId}/datasets/private`)).status).toBe(200);
    const own = await t.call('GET', '/v1/accounts/other/datasets', { key: otherKey });
    expect(own.json).toEqual({ datasets: [], nextPageToken: '', totalSize: 0 });
  });

  it('verifies a key and names its account in x-fireworks-account-id', async () => {
    const response = await t.call('GET', '/verifyApiKey');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-fireworks-account-id')).toBe(t.accountId);
    expect((await t.call('GET', '/verifyApiKey', { key: 'nope' })).status).toBe(401);
  });

  it('lets an admin create, list and revoke keys; a user key cannot manage keys', async () => {
    const created = await t.call('POST', `/v1/accounts/${t.accountId}/apiKeys`, {
      body: { apiKey: { displayName: 'ci bot', role: 'user' }, apiKeyId: 'ci-bot' },
    });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ keyId: 'ci-bot', role: 'user', displayName: 'ci bot' });
    const userKey = created.json['key'] as string;
    expect(userKey).toMatch(/^tly_/);

    const asUser = await t.call('GET', `/v1/accounts/${t.accountId}/datasets`, { key: userKey });
    expect(asUser.status).toBe(200);
    const userCreatesKey = await t.call('POST', `/v1/accounts/${t.accountId}/apiKeys`, { key: userKey, body: {} });
    expect(userCreatesKey.status).toBe(403);
    expect(userCreatesKey.json['message']).toContain('admin');

    const listed = await t.call('GET', `/v1/accounts/${t.accountId}/apiKeys`);
    const ids = (listed.json['apiKeys'] as { keyId: string }[]).map((k) => k.keyId);
    expect(ids).toEqual(expect.arrayContaining(['admin', 'ci-bot']));
    expect(listed.text).not.toContain(userKey);

    const badRole = await t.call('POST', `/v1/accounts/${t.accountId}/apiKeys`, { body: { apiKey: { role: 'root' } } });
    expect(badRole.status).toBe(400);
    expect(badRole.json['message']).toContain('apiKey.role');

    expect((await t.call('DELETE', `/v1/accounts/${t.accountId}/apiKeys/ci-bot`)).status).toBe(200);
    expect((await t.call('GET', `/v1/accounts/${t.accountId}/datasets`, { key: userKey })).status).toBe(401);
  });

  it('stores keys hashed', async () => {
    const record = await t.server.store.apiKeys.get(t.accountId, 'admin');
    expect(record?.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(record?.keyHash).not.toContain(t.key);
  });

  it('serves an OpenAPI document generated from the routes', async () => {
    const doc = await t.call('GET', '/openapi.json', { key: null });
    expect(doc.status).toBe(200);
    const paths = doc.json['paths'] as Record<string, Record<string, { operationId: string }>>;
    expect(paths['/v1/accounts/{accountId}/datasets']?.['post']?.operationId).toBe('CreateDataset');
    expect(paths['/v1/accounts/{accountId}/datasets/{datasetId}:upload']?.['post']?.operationId).toBe('UploadDatasetFiles');
  });
});
