import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

// One store kind is enough: the bucket lives in the server's memory, not in the database.
describe('per-key rate limit over HTTP', () => {
  let t: TestServer;
  let secondKey: string;
  const datasets = () => `/v1/accounts/${t.accountId}/datasets`;

  beforeAll(async () => {
    // 60 a minute = one token a second, so a wait of Retry-After seconds is short and exact.
    t = await startTestServer('sqlite', { rateLimitPerMinute: 60, rateLimitBurst: 3, inProcessWorker: false });
    secondKey = (await t.server.services.accounts.createKey(t.accountId, { role: 'user' })).key;
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 429 with Retry-After after the burst; another key is unaffected; the key recovers after the wait', async () => {
    for (let i = 0; i < 3; i++) expect((await t.call('GET', datasets())).status).toBe(200);
    const limited = await t.call('GET', datasets());
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ code: 8, message: expect.stringContaining('rate limit'), details: [] });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBe(1);

    expect((await t.call('GET', datasets(), { key: secondKey })).status).toBe(200);
    // Signed-URL and unauthenticated routes are not counted, and a bad key is a 401, not a 429.
    expect((await t.call('GET', '/openapi.json', { key: null })).status).toBe(200);
    expect((await t.call('GET', datasets(), { key: 'tly_not-a-key' })).status).toBe(401);

    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 50));
    expect((await t.call('GET', datasets())).status).toBe(200);
    expect((await t.call('GET', datasets())).status).toBe(429);
  });
});
