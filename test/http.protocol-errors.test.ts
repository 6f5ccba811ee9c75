import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

const ENVELOPE = { code: expect.any(Number), message: expect.any(String), details: [] };

describe('HTTP protocol errors answer with the API envelope (415, 405, 431)', () => {
  let t: TestServer;
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    t = await startTestServer('sqlite', { inProcessWorker: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 415 naming application/json when a JSON route gets another content type, and stores nothing', async () => {
    const xml = await t.call('POST', `${a()}/datasets`, { body: '<dataset><id>x</id></dataset>', headers: { 'content-type': 'application/xml' } });
    expect(xml.status, xml.text).toBe(415);
    expect(xml.json).toEqual({ ...ENVELOPE, code: 3, message: 'body: expected content type application/json, got application/xml' });
    const form = new FormData();
    form.append('datasetId', 'from-form');
    const multipart = await t.call('POST', `${a()}/datasets`, { body: form });
    expect(multipart.status).toBe(415);
    expect(multipart.json['message']).toBe('body: expected content type application/json, got multipart/form-data');
    const none = await t.call('POST', `${a()}/datasets`, { body: '{"datasetId":"x"}', headers: { 'content-type': '' } });
    expect(none.status, none.text).toBe(415);
    expect(none.json['message']).toMatch(/^body: expected content type application\/json, got /);
    expect((await t.call('GET', `${a()}/datasets`)).json['datasets']).toEqual([]);
    // The JSON route still reads JSON, with or without a charset.
    const json = await t.call('POST', `${a()}/datasets`, { body: JSON.stringify({ datasetId: 'ok', dataset: {} }), headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(json.status, json.text).toBe(200);
  });

  it('answers 405 with an Allow header for an undeclared method on a known path', async () => {
    const cases: Array<[string, string, string]> = [
      ['DELETE', `${a()}/datasets`, 'GET, HEAD, POST'],
      ['PUT', `${a()}/evaluationJobs/some-job`, 'DELETE, GET, HEAD'],
      ['POST', `${a()}/secrets/some-secret`, 'DELETE, GET, HEAD, PATCH'],
      ['GET', `${a()}/datasets/some-dataset:upload`, 'POST'],
      ['DELETE', `${a()}/evaluationJobs/some-job:cancel`, 'POST'],
      ['QUERY', `${a()}/secrets/some-secret`, 'DELETE, GET, HEAD, PATCH'],
      ['OPTIONS', `${a()}/leaderboards`, 'GET, HEAD, POST'],
    ];
    for (const [method, path, allow] of cases) {
      const response = await t.call(method, path);
      expect(response.status, `${method} ${path}: ${response.text}`).toBe(405);
      expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(response.json).toEqual({ ...ENVELOPE, code: 12, message: `method ${method} is not allowed on ${path}; allowed: ${allow}` });
    }
    // Unknown paths and unknown custom methods stay 404.
    expect((await t.call('DELETE', `${a()}/nothing-here`)).status).toBe(404);
    expect((await t.call('POST', `${a()}/datasets/some-dataset:explode`)).status).toBe(404);
  });

  it('answers an over-long URL or header block with 431 and the API envelope', async () => {
    const longUrl = await fetch(`${t.url}${a()}/datasets?filter=${'x'.repeat(20_000)}`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(longUrl.status).toBe(431);
    expect(longUrl.headers.get('content-type')).toBe('application/json');
    const body = (await longUrl.json()) as Record<string, unknown>;
    expect(body).toEqual({ ...ENVELOPE, code: 3 });
    expect(body['message']).toMatch(/^request: the URL and headers together are larger than the server accepts \(16 KiB\)/);
    const bigHeader = await fetch(`${t.url}${a()}/datasets`, { headers: { authorization: `Bearer ${t.key}`, 'x-padding': 'y'.repeat(20_000) } });
    expect(bigHeader.status).toBe(431);
    expect(await bigHeader.json()).toEqual({ ...ENVELOPE, code: 3 });
    // The server goes on serving.
    expect((await t.call('GET', `${a()}/datasets`)).status).toBe(200);
  });
});
