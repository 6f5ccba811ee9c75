import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipartBody, startTestServer, type TestServer } from './support/server.js';

describe('small defects of issue 18', () => {
  let t: TestServer;
  const a = () => `/v1/accounts/${t.accountId}/datasets`;

  beforeAll(async () => {
    t = await startTestServer('sqlite', { inProcessWorker: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers //v1/... and other doubled-slash API paths with the JSON 404, not the web UI page', async () => {
    for (const path of ['//v1/accounts/acme/datasets', '//v1', '/v1//accounts', '//%2Fv1/x', '//openapi.json']) {
      const response = await t.call('GET', path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toContain('application/json');
      expect(response.json['code'], path).toBe(5);
    }
    expect((await t.call('GET', '/datasets/x', { key: null })).headers.get('content-type')).toContain('text/html');
  });

  it('checks the filename part of a signed URL', async () => {
    await t.call('POST', a(), { body: { dataset: {}, datasetId: 'named' } });
    const content = '{"a":1}\n';
    const endpoint = await t.call('POST', `${a()}/named:getUploadEndpoint`, { body: { filenameToSize: { 'rows.jsonl': String(content.length) } } });
    const url = (endpoint.json['filenameToSignedUrls'] as Record<string, string>)['rows.jsonl']!;
    const wrong = await t.call('PUT', url.replace(/rows\.jsonl$/, 'other.jsonl'), { key: null, body: content, headers: { 'content-type': 'application/octet-stream' } });
    expect(wrong.status).toBe(404);
    expect(wrong.json['message']).toContain('"rows.jsonl", not "other.jsonl"');
    expect((await t.call('PUT', url, { key: null, body: content, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(200);
    await t.call('POST', `${a()}/named:validateUpload`, { body: {} });

    const download = await t.call('GET', `${a()}/named:getDownloadEndpoint`);
    const downloadUrl = Object.values(download.json['filenameToSignedUrls'] as Record<string, string>)[0]!;
    expect(downloadUrl.endsWith('/named.jsonl')).toBe(true);
    expect((await t.call('GET', downloadUrl.replace(/named\.jsonl$/, 'x.jsonl'), { key: null })).status).toBe(404);
    expect((await t.call('GET', downloadUrl, { key: null })).text).toBe(content);
  });

  it('downloads each row as its uploaded text, with LF endings and no BOM, as docs/api.md says', async () => {
    await t.call('POST', a(), { body: { dataset: {}, datasetId: 'bytes' } });
    const uploaded = '\uFEFF{ "b" : 1.50, "a": "\\u00e9" }\r\n\r\n{"n":  12345678901234567890}\r\n';
    expect((await t.call('POST', `${a()}/bytes:upload`, { body: multipartBody(uploaded) })).status).toBe(200);
    const download = await t.call('GET', `${a()}/bytes:getDownloadEndpoint`);
    const url = Object.values(download.json['filenameToSignedUrls'] as Record<string, string>)[0]!;
    expect((await t.call('GET', url, { key: null })).text).toBe('{ "b" : 1.50, "a": "\\u00e9" }\n{"n":  12345678901234567890}\n');
  });
});
