import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, type TestServer } from './support/server.js';

const chatRow = (i: number) => ({
  messages: [
    { role: 'user', content: `What is ${i} + ${i}?` },
    { role: 'assistant', content: String(i + i) },
  ],
  ground_truth: String(i + i),
});

describe.each(STORE_KINDS)('datasets over HTTP on %s', (kind) => {
  let t: TestServer;
  const base = () => `/v1/accounts/${t.accountId}/datasets`;

  beforeAll(async () => {
    t = await startTestServer(kind);
  });
  afterAll(async () => {
    await t.close();
  });

  async function createDataset(id: string, dataset: Record<string, unknown> = {}) {
    return t.call('POST', base(), { body: { dataset: { displayName: id, ...dataset }, datasetId: id } });
  }

  async function upload(id: string, content: string) {
    return t.call('POST', `${base()}/${id}:upload`, { body: multipartBody(content) });
  }

  async function download(id: string): Promise<string> {
    const endpoint = await t.call('GET', `${base()}/${id}:getDownloadEndpoint`);
    expect(endpoint.status).toBe(200);
    const urls = endpoint.json['filenameToSignedUrls'] as Record<string, string>;
    expect(Object.keys(urls)).toEqual([`${id}.jsonl`]);
    const response = await t.call('GET', Object.values(urls)[0]!, { key: null });
    expect(response.status).toBe(200);
    return response.text;
  }

  it('creates a dataset in UPLOADING with the wire conventions', async () => {
    const created = await createDataset('first', { exampleCount: '3', format: 'CHAT', evalProtocol: {} });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      name: `accounts/${t.accountId}/datasets/first`,
      displayName: 'first',
      state: 'UPLOADING',
      exampleCount: '3',
      format: 'CHAT',
      evalProtocol: {},
      status: { code: 'OK', message: '' },
    });
    expect(created.json['createTime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it('answers 409 with x-should-retry: false for a taken id', async () => {
    await createDataset('taken');
    const again = await createDataset('taken');
    expect(again.status).toBe(409);
    expect(again.json).toEqual({ code: 6, message: expect.stringContaining('taken'), details: [] });
    expect(again.headers.get('x-should-retry')).toBe('false');
  });

  it('rejects bad ids, unknown fields and missing fields naming the field', async () => {
    const badId = await createDataset('Bad_ID');
    expect(badId.status).toBe(400);
    expect(badId.json['code']).toBe(3);
    expect(badId.json['message']).toContain('datasetId');

    const unknown = await t.call('POST', base(), { body: { dataset: { assertionType: 'x' }, datasetId: 'u1' } });
    expect(unknown.status).toBe(400);
    expect(unknown.json['message']).toContain('dataset.assertionType: unknown field "assertionType"');

    const missing = await t.call('POST', base(), { body: { dataset: {} } });
    expect(missing.status).toBe(400);
    expect(missing.json['message']).toContain('datasetId');

    const wrongType = await t.call('POST', base(), { body: { dataset: { exampleCount: 'many' }, datasetId: 'w1' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json['message']).toContain('dataset.exampleCount');

    const notJson = await t.call('POST', base(), { body: '{"dataset":', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.json['message']).toContain('not valid JSON');
    expect((await t.call('GET', `${base()}/u1`)).status).toBe(404);
  });

  it('uploads JSONL by multipart, detects the format and streams the rows back in order', async () => {
    await createDataset('chat');
    const rows = Array.from({ length: 2500 }, (_, i) => chatRow(i));
    const uploaded = await upload('chat', jsonlFile(rows));
    expect(uploaded.status).toBe(200);
    expect(uploaded.json).toMatchObject({ id: 'chat', object: 'file', filename: 'data.jsonl' });

    const got = await t.call('GET', `${base()}/chat`);
    expect(got.json).toMatchObject({ state: 'READY', exampleCount: '2500', format: 'CHAT', averageTurnCount: 2 });
    expect(Number(got.json['estimatedTokenCount'])).toBeGreaterThan(0);
    expect(await download('chat')).toBe(jsonlFile(rows));
  });

  it('detects COMPLETION rows', async () => {
    await createDataset('completion');
    await upload('completion', jsonlFile([{ prompt: 'a', completion: 'b' }, { prompt: 'c', completion: 'd' }]));
    const got = await t.call('GET', `${base()}/completion`);
    expect(got.json).toMatchObject({ state: 'READY', format: 'COMPLETION', exampleCount: '2' });
  });

  it('refuses an invalid file naming the lines, and keeps the earlier rows', async () => {
    await createDataset('keep');
    const good = jsonlFile([chatRow(1), chatRow(2)]);
    expect((await upload('keep', good)).status).toBe(200);

    const bad = `${JSON.stringify(chatRow(3))}\n{"broken": \n[1,2]\n"text"\n${JSON.stringify(chatRow(4))}\n`;
    const refused = await upload('keep', bad);
    expect(refused.status).toBe(400);
    expect(refused.json['message']).toMatch(/line 2: not valid JSON/);
    expect(refused.json['message']).toMatch(/line 3: not a JSON object/);
    expect(refused.json['message']).toMatch(/line 4: not a JSON object/);

    const after = await t.call('GET', `${base()}/keep`);
    expect(after.json).toMatchObject({ state: 'READY', exampleCount: '2' });
    expect((after.json['status'] as { message: string }).message).toContain('line 2');
    expect(await download('keep')).toBe(good);
  });

  it('refuses invalid UTF-8 and leaves a new dataset without rows', async () => {
    await createDataset('utf');
    const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
    const refused = await t.call('POST', `${base()}/utf:upload`, { body: multipartBody(bytes) });
    expect(refused.status).toBe(400);
    expect(refused.json['message']).toContain('line 1: not valid UTF-8');
    const after = await t.call('GET', `${base()}/utf`);
    expect(after.json['state']).toBe('UPLOADING');
    const endpoint = await t.call('GET', `${base()}/utf:getDownloadEndpoint`);
    expect(endpoint.status).toBe(400);
  });

  it('uploads through a signed URL: size checked, single use, then validateUpload', async () => {
    await createDataset('signed');
    const content = jsonlFile([chatRow(7), chatRow(8), chatRow(9)]);
    const size = Buffer.byteLength(content);
    const endpoint = await t.call('POST', `${base()}/signed:getUploadEndpoint`, {
      body: { filenameToSize: { 'rows.jsonl': String(size) } },
    });
    expect(endpoint.status).toBe(200);
    const url = (endpoint.json['filenameToSignedUrls'] as Record<string, string>)['rows.jsonl']!;
    expect(url.startsWith(t.url)).toBe(true);

    const early = await t.call('POST', `${base()}/signed:validateUpload`, { body: {} });
    expect(early.status).toBe(400);
    expect(early.json['message']).toContain('no file has been uploaded');

    const wrongSize = await t.call('PUT', url, {
      key: null,
      body: content + '\n',
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(wrongSize.status).toBe(400);
    expect(wrongSize.json['message']).toContain('Content-Length');

    const badRange = await t.call('PUT', url, {
      key: null,
      body: content,
      headers: { 'content-type': 'application/octet-stream', 'x-goog-content-length-range': '1,2' },
    });
    expect(badRange.status).toBe(400);

    const put = await t.call('PUT', url, {
      key: null,
      body: content,
      headers: { 'content-type': 'application/octet-stream', 'x-goog-content-length-range': `${size},${size}` },
    });
    expect(put.status).toBe(200);
    const reuse = await t.call('PUT', url, { key: null, body: content, headers: { 'content-type': 'application/octet-stream' } });
    expect(reuse.status).toBe(400);
    expect(reuse.json['message']).toContain('already used');

    expect((await t.call('GET', `${base()}/signed`)).json['state']).toBe('UPLOADING');
    const validated = await t.call('POST', `${base()}/signed:validateUpload`, { body: {} });
    expect(validated.status).toBe(200);
    expect(validated.json).toEqual({});
    expect((await t.call('GET', `${base()}/signed`)).json).toMatchObject({ state: 'READY', exampleCount: '3' });
    expect(await download('signed')).toBe(content);
  });

  it('refuses signed URLs that are unknown or expired', async () => {
    const unknown = await t.call('PUT', `${t.url}/signed/nope/rows.jsonl`, { key: null, body: 'x' });
    expect(unknown.status).toBe(404);

    const short = await startTestServer(kind, { signedUrlTtlSeconds: 1 });
    try {
      await short.call('POST', `/v1/accounts/${short.accountId}/datasets`, { body: { dataset: {}, datasetId: 'exp' } });
      const endpoint = await short.call('POST', `/v1/accounts/${short.accountId}/datasets/exp:getUploadEndpoint`, {
        body: { filenameToSize: { 'a.jsonl': '8' } },
      });
      const url = (endpoint.json['filenameToSignedUrls'] as Record<string, string>)['a.jsonl']!;
      await new Promise((r) => setTimeout(r, 1100));
      const late = await short.call('PUT', url, { key: null, body: '{"a":1}\n' });
      expect(late.status).toBe(403);
      expect(late.json['message']).toContain('expired');
    } finally {
      await short.close();
    }
  });

  it('rejects bad getUploadEndpoint requests naming the field', async () => {
    await createDataset('ep');
    const none = await t.call('POST', `${base()}/ep:getUploadEndpoint`, { body: { filenameToSize: {} } });
    expect(none.status).toBe(400);
    expect(none.json['message']).toContain('filenameToSize: name at least one file');
    const negative = await t.call('POST', `${base()}/ep:getUploadEndpoint`, { body: { filenameToSize: { 'a.jsonl': '-5' } } });
    expect(negative.status).toBe(400);
    expect(negative.json['message']).toContain('filenameToSize');
    const missing = await t.call('POST', `${base()}/ep:getUploadEndpoint`, { body: {} });
    expect(missing.json['message']).toContain('filenameToSize');
  });

  it('creates a dataset by filtering a source dataset', async () => {
    await createDataset('source');
    const rows = Array.from({ length: 50 }, (_, i) => ({ ...chatRow(i), bucket: i % 5, tag: i < 10 ? 'early' : 'late' }));
    await upload('source', jsonlFile(rows));
    const filtered = await t.call('POST', base(), {
      body: { dataset: {}, datasetId: 'filtered', sourceDatasetId: `accounts/${t.accountId}/datasets/source`, filter: 'bucket = 0 AND tag = "late"' },
    });
    expect(filtered.status).toBe(200);
    expect(filtered.json).toMatchObject({ state: 'READY', exampleCount: '8', transformed: { sourceDatasetId: 'source' } });
    const expected = rows.filter((r) => r.bucket === 0 && r.tag === 'late');
    expect(await download('filtered')).toBe(jsonlFile(expected));

    const missingSource = await t.call('POST', base(), { body: { dataset: {}, datasetId: 'f2', sourceDatasetId: 'ghost' } });
    expect(missingSource.status).toBe(404);
    expect(missingSource.json['message']).toContain('sourceDatasetId');
  });

  it('lists with paging, filter, orderBy, readMask and totalSize', async () => {
    const fresh = await startTestServer(kind);
    try {
      const b = `/v1/accounts/${fresh.accountId}/datasets`;
      for (let i = 0; i < 7; i++) {
        await fresh.call('POST', b, { body: { dataset: { displayName: `set ${i % 2 ? 'odd' : 'even'} ${i}` }, datasetId: `d${i}` } });
      }
      const seen: string[] = [];
      let token = '';
      do {
        const page = await fresh.call('GET', `${b}?pageSize=3&orderBy=displayName desc${token ? `&pageToken=${token}` : ''}`);
        expect(page.status).toBe(200);
        expect(page.json['totalSize']).toBe(7);
        seen.push(...(page.json['datasets'] as { name: string }[]).map((d) => d.name.split('/').pop()!));
        token = page.json['nextPageToken'] as string;
      } while (token);
      expect(seen).toEqual(['d5', 'd3', 'd1', 'd6', 'd4', 'd2', 'd0']);

      const odd = await fresh.call('GET', `${b}?filter=${encodeURIComponent('displayName:"odd" AND state = UPLOADING')}&readMask=name,state`);
      expect(odd.json['totalSize']).toBe(3);
      expect((odd.json['datasets'] as object[])[0]).toEqual({ name: `accounts/${fresh.accountId}/datasets/d1`, state: 'UPLOADING' });

      const empty = await fresh.call('GET', `${b}?filter=${encodeURIComponent('state = READY')}`);
      expect(empty.json).toEqual({ datasets: [], nextPageToken: '', totalSize: 0 });

      const badFilter = await fresh.call('GET', `${b}?filter=${encodeURIComponent('colour = "red"')}`);
      expect(badFilter.status).toBe(400);
      expect(badFilter.json['message']).toContain('filter');
      const badSize = await fresh.call('GET', `${b}?pageSize=-1`);
      expect(badSize.status).toBe(400);
      expect(badSize.json['message']).toContain('pageSize');
      const badToken = await fresh.call('GET', `${b}?pageToken=garbage`);
      expect(badToken.status).toBe(400);
      expect(badToken.json['message']).toContain('pageToken');
    } finally {
      await fresh.close();
    }
  });

  it('patches with and without updateMask, and deletes', async () => {
    await createDataset('patch-me', { externalUrl: 'gs://a/b.jsonl' });
    const patched = await t.call('PATCH', `${base()}/patch-me`, { body: { displayName: 'Renamed', sourceJobName: 'jobs/x' } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ displayName: 'Renamed', sourceJobName: 'jobs/x', externalUrl: 'gs://a/b.jsonl' });

    const maskedPatch = await t.call('PATCH', `${base()}/patch-me?updateMask=sourceJobName`, { body: { displayName: 'Ignored', sourceJobName: 'jobs/y' } });
    expect(maskedPatch.json).toMatchObject({ displayName: 'Renamed', sourceJobName: 'jobs/y' });
    const badMask = await t.call('PATCH', `${base()}/patch-me?updateMask=colour`, { body: {} });
    expect(badMask.status).toBe(400);
    expect(badMask.json['message']).toContain('updateMask');

    expect((await t.call('DELETE', `${base()}/patch-me`)).json).toEqual({});
    expect((await t.call('GET', `${base()}/patch-me`)).status).toBe(404);
    expect((await t.call('DELETE', `${base()}/patch-me`)).status).toBe(404);
  });

  it('answers unknown custom methods and routes with 404 envelopes', async () => {
    const verb = await t.call('POST', `${base()}/first:explode`, { body: {} });
    expect(verb.status).toBe(404);
    expect(verb.json).toMatchObject({ code: 5, message: expect.stringContaining(':explode') });
    expect((await t.call('GET', '/v1/nothing')).json['code']).toBe(5);
  });
});
