import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, startTestServer, type TestServer } from './support/server.js';

const row = (i: number) => ({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }], ground_truth: `a${i}` });
const shard = (from: number, to: number) => jsonlFile(Array.from({ length: to - from }, (_, k) => row(from + k)));

/** `:getUploadEndpoint` with several files (the SDK's upload_dataset_shards): one upload, all or nothing. */
describe.each(STORE_KINDS)('dataset uploads of several files on %s', (kind) => {
  let t: TestServer;
  const base = () => `/v1/accounts/${t.accountId}/datasets`;

  beforeAll(async () => {
    t = await startTestServer(kind);
  });
  afterAll(async () => {
    await t.close();
  });

  async function register(id: string, files: Record<string, string>): Promise<Record<string, string>> {
    const sizes = Object.fromEntries(Object.entries(files).map(([name, text]) => [name, String(Buffer.byteLength(text))]));
    const endpoint = await t.call('POST', `${base()}/${id}:getUploadEndpoint`, { body: { filenameToSize: sizes } });
    expect(endpoint.status).toBe(200);
    return endpoint.json['filenameToSignedUrls'] as Record<string, string>;
  }

  const put = (url: string, text: string) => t.call('PUT', url, { key: null, body: text, headers: { 'content-type': 'application/octet-stream' } });

  async function rowsOf(id: string): Promise<string> {
    const endpoint = await t.call('GET', `${base()}/${id}:getDownloadEndpoint`);
    return (await t.call('GET', Object.values(endpoint.json['filenameToSignedUrls'] as Record<string, string>)[0]!, { key: null })).text;
  }

  it('makes the rows of every file the dataset, in the order the files were named', async () => {
    await t.call('POST', base(), { body: { dataset: {}, datasetId: 'shards' } });
    // Named in an order that is not alphabetical, and PUT in yet another.
    const files = { 'part-b.jsonl': shard(0, 3), 'part-a.jsonl': shard(3, 5), 'part-c.jsonl': shard(5, 9) };
    const urls = await register('shards', files);
    expect(Object.keys(urls)).toEqual(Object.keys(files));
    for (const name of ['part-c.jsonl', 'part-b.jsonl', 'part-a.jsonl'] as const) expect((await put(urls[name]!, files[name])).status).toBe(200);
    const validated = await t.call('POST', `${base()}/shards:validateUpload`, { body: {} });
    expect(validated.status).toBe(200);
    expect((await t.call('GET', `${base()}/shards`)).json).toMatchObject({ state: 'READY', exampleCount: '9', format: 'CHAT' });
    expect(await rowsOf('shards')).toBe(shard(0, 9));
  });

  it('refuses to validate until every file is in, keeping the rows it had', async () => {
    await t.call('POST', base(), { body: { dataset: {}, datasetId: 'partial' } });
    const first = await register('partial', { 'only.jsonl': shard(0, 2) });
    await put(first['only.jsonl']!, shard(0, 2));
    expect((await t.call('POST', `${base()}/partial:validateUpload`, { body: {} })).status).toBe(200);

    const files = { 'one.jsonl': shard(10, 12), 'two.jsonl': shard(12, 13) };
    const urls = await register('partial', files);
    expect((await put(urls['one.jsonl']!, files['one.jsonl'])).status).toBe(200);
    const early = await t.call('POST', `${base()}/partial:validateUpload`, { body: {} });
    expect(early.status).toBe(400);
    expect(early.json['message']).toContain('1 of 2 file(s) not uploaded yet: two.jsonl');
    expect(await rowsOf('partial')).toBe(shard(0, 2));

    // A bad shard is refused at its PUT, naming the line; the dataset still has its old rows.
    const bad = await put(urls['two.jsonl']!, '{"x":\n'.padEnd(Buffer.byteLength(files['two.jsonl']) - 1, ' ') + '\n');
    expect(bad.status).toBe(400);
    expect(bad.json['message']).toContain('line 1');
    expect(await rowsOf('partial')).toBe(shard(0, 2));

    // The client re-requests the whole set (as the SDK does after 45 minutes): files already PUT still count.
    const again = await register('partial', files);
    expect((await put(again['two.jsonl']!, files['two.jsonl'])).status).toBe(200);
    expect((await t.call('POST', `${base()}/partial:validateUpload`, { body: {} })).status).toBe(200);
    expect(await rowsOf('partial')).toBe(shard(10, 13));
  });

  it('refuses a set of files over the upload limit, naming the field', async () => {
    await t.call('POST', base(), { body: { dataset: {}, datasetId: 'big' } });
    const huge = await t.call('POST', `${base()}/big:getUploadEndpoint`, {
      body: { filenameToSize: { 'a.jsonl': String(700 * 1024 ** 2), 'b.jsonl': String(700 * 1024 ** 2) } },
    });
    expect(huge.status).toBe(400);
    expect(huge.json['message']).toMatch(/^filenameToSize: the files add up to \d+ bytes, over the limit/);
  });
});
