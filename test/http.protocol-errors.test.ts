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

  it('refuses a JSON body that is null or no object, naming the body, where an absent body reads as {}', async () => {
    for (const text of ['null', '[]', '"x"', '3']) {
      const response = await t.call('POST', `${a()}/apiKeys`, { body: text, headers: { 'content-type': 'application/json' } });
      expect(response.status, `${text}: ${response.text}`).toBe(400);
      expect(response.json['message'], text).toMatch(/^body: /);
    }
    const keys = (await t.call('GET', `${a()}/apiKeys`)).json['apiKeys'] as unknown[];
    expect(keys).toHaveLength(1); // the bootstrap key only
    const absent = await t.call('POST', `${a()}/apiKeys`);
    expect(absent.status, absent.text).toBe(200);
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

  it('declares id patterns on path parameters and typed 200 bodies in /openapi.json, which real answers match', async () => {
    type Operation = { parameters: { name: string; in: string; schema: { pattern?: string } }[]; responses: Record<string, { content: Record<string, { schema: Record<string, unknown> }> }> };
    const doc = (await t.call('GET', '/openapi.json', { key: null })).json as { paths: Record<string, Record<string, Operation>> };
    const get = doc.paths['/v1/accounts/{accountId}/datasets/{datasetId}']!['get']!;
    const id = get.parameters.find((p) => p.name === 'datasetId')!;
    expect(id.schema.pattern).toBe('^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$');
    expect(new RegExp(id.schema.pattern!).test('ok')).toBe(true);
    const schema = get.responses['200']!.content['application/json']!.schema as { properties: Record<string, { type?: unknown; pattern?: string }> };
    expect(schema.properties['exampleCount']).toEqual({ type: 'string', pattern: '^-?\\d+$' });
    // The dataset created above matches what is declared for it.
    const dataset = (await t.call('GET', `${a()}/datasets/ok`)).json;
    expect(dataset['name']).toMatch(new RegExp(schema.properties['name']!.pattern!));
    expect(dataset['exampleCount']).toMatch(new RegExp(schema.properties['exampleCount']!.pattern!));
    const list = doc.paths['/v1/accounts/{accountId}/secrets']!['get']!.responses['200']!.content['application/json']!.schema;
    expect(list['required']).toEqual(['secrets', 'nextPageToken', 'totalSize']);
    const download = doc.paths['/signed/{token}/{filename}'] ?? Object.entries(doc.paths).find(([path]) => path.endsWith('/{token}/{filename}'))![1];
    expect(Object.keys(download['get']!.responses['200']!.content)).toEqual(['*/*']);
  });
});
