import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, type TestServer } from './support/server.js';

const row = (i: number) => ({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }], ground_truth: `a${i}` });

/** `:splitDataset {chunkSize}` (reference §4.2): chunk datasets of at least 200 rows, in order. */
describe.each(STORE_KINDS)('splitDataset on %s', (kind) => {
  let t: TestServer;
  const base = () => `/v1/accounts/${t.accountId}/datasets`;

  beforeAll(async () => {
    t = await startTestServer(kind);
    await t.call('POST', base(), { body: { dataset: {}, datasetId: 'whole' } });
    await t.call('POST', `${base()}/whole:upload`, { body: multipartBody(jsonlFile(Array.from({ length: 450 }, (_, i) => row(i)))) });
  });
  afterAll(async () => {
    await t.close();
  });

  async function rowsOf(id: string): Promise<string> {
    const endpoint = await t.call('GET', `${base()}/${id}:getDownloadEndpoint`);
    return (await t.call('GET', Object.values(endpoint.json['filenameToSignedUrls'] as Record<string, string>)[0]!, { key: null })).text;
  }

  it('answers the chunk datasets, each READY with its slice of the rows in order', async () => {
    const split = await t.call('POST', `${base()}/whole:splitDataset`, { body: { chunkSize: 200, parent: `accounts/${t.accountId}` } });
    expect(split.status).toBe(200);
    const names = [1, 2, 3].map((n) => `accounts/${t.accountId}/datasets/whole-chunk-${n}`);
    expect(split.json).toEqual({ chunkDatasetNames: names, chunksCreated: 3, totalExamples: '450' });
    const slices = [[0, 200], [200, 400], [400, 450]] as const;
    for (const [n, [from, to]] of slices.entries()) {
      const chunk = await t.call('GET', `${base()}/whole-chunk-${n + 1}`);
      expect(chunk.json).toMatchObject({ state: 'READY', exampleCount: String(to - from), format: 'CHAT', splitted: { sourceDatasetId: 'whole' } });
      expect(await rowsOf(`whole-chunk-${n + 1}`)).toBe(jsonlFile(Array.from({ length: to - from }, (_, k) => row(from + k))));
    }
    // Their lineage leads back to the dataset they were cut from.
    const lineage = await t.call('GET', `${base()}/whole-chunk-2:getDownloadEndpoint?downloadLineage=true`);
    expect(Object.keys(lineage.json['filenameToSignedUrls'] as object)).toEqual(['whole-chunk-2.jsonl', 'whole.jsonl']);
  });

  it('refuses chunks under 200 rows, names taken, and datasets without rows, naming the problem', async () => {
    const small = await t.call('POST', `${base()}/whole:splitDataset`, { body: { chunkSize: 199 } });
    expect(small.status).toBe(400);
    expect(small.json['message']).toBe('chunkSize: expected an integer of at least 200 rows, got 199');
    const missing = await t.call('POST', `${base()}/whole:splitDataset`, { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.json['message']).toContain('chunkSize');
    // The first split's chunks hold the names: nothing is made, nothing replaced.
    const again = await t.call('POST', `${base()}/whole:splitDataset`, { body: { chunkSize: 300 } });
    expect(again.status).toBe(409);
    expect(again.json['message']).toContain('"whole-chunk-1" already exists');
    expect((await t.call('GET', `${base()}/whole-chunk-1`)).json['exampleCount']).toBe('200');
    await t.call('POST', base(), { body: { dataset: {}, datasetId: 'empty' } });
    expect((await t.call('POST', `${base()}/empty:splitDataset`, { body: { chunkSize: 200 } })).status).toBe(400);
    expect((await t.call('POST', `${base()}/nope:splitDataset`, { body: { chunkSize: 200 } })).status).toBe(404);
  });
});
