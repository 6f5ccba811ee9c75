import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_JOB_SETTINGS, type JobRecord } from '../src/domain/jobs.js';
import { nowIso } from '../src/domain/types.js';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, type TestServer } from './support/server.js';

const deep = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

/** Rows that are valid JSON but that Tally's evaluators cannot read, and rows already stored. */
describe.each(STORE_KINDS)('hostile rows on %s', (kind) => {
  let t: TestServer;
  const base = () => `/v1/accounts/${t.accountId}/datasets`;
  const good = jsonlFile([{ q: 'one' }, { q: 'two' }]);

  beforeAll(async () => {
    t = await startTestServer(kind, { inProcessWorker: false });
  });
  afterAll(async () => {
    await t.close();
  });

  async function readyDataset(id: string): Promise<void> {
    await t.call('POST', base(), { body: { dataset: {}, datasetId: id } });
    expect((await t.call('POST', `${base()}/${id}:upload`, { body: multipartBody(good) })).status).toBe(200);
  }

  async function download(id: string): Promise<string> {
    const endpoint = await t.call('GET', `${base()}/${id}:getDownloadEndpoint`);
    const url = Object.values(endpoint.json['filenameToSignedUrls'] as Record<string, string>)[0]!;
    return (await t.call('GET', url, { key: null })).text;
  }

  async function expectUnchanged(id: string): Promise<void> {
    expect((await t.call('GET', `${base()}/${id}`)).json).toMatchObject({ state: 'READY', exampleCount: '2' });
    expect(await download(id)).toBe(good);
  }

  it('refuses a deeply nested row at multipart upload with its line, keeping the stored rows', async () => {
    await readyDataset('deep');
    const refused = await t.call('POST', `${base()}/deep:upload`, { body: multipartBody(`{"ok":1}\n{"ok":2}\n${deep(5000)}\n`) });
    expect(refused.status).toBe(400);
    expect(refused.json['message']).toContain('line 3: nested deeper than the limit of 256 levels');
    await expectUnchanged('deep');
  });

  it('refuses a too-long integer at a signed URL PUT with its line, keeping the stored rows', async () => {
    await readyDataset('bigint');
    const content = `{"ok":1}\n{"n":${'7'.repeat(5000)}}\n`;
    const endpoint = await t.call('POST', `${base()}/bigint:getUploadEndpoint`, {
      body: { filenameToSize: { 'rows.jsonl': String(Buffer.byteLength(content)) } },
    });
    const url = (endpoint.json['filenameToSignedUrls'] as Record<string, string>)['rows.jsonl']!;
    const put = await t.call('PUT', url, { key: null, body: content, headers: { 'content-type': 'application/octet-stream' } });
    expect(put.status).toBe(400);
    expect(put.json['message']).toContain('line 2: an integer of 5000 digits is over the limit of 4300 digits');
    expect((await t.call('POST', `${base()}/bigint:validateUpload`, { body: {} })).status).toBe(400);
    await expectUnchanged('bigint');
  });

  it('refuses a preview sample Tally evaluators could not read, naming the sample', async () => {
    const refused = await t.call('POST', `/v1/accounts/acme/evaluators:previewEvaluator`, {
      body: { evaluator: { criteria: [{ codeSnippets: { fileContents: { 'main.py': 'def evaluate(messages, **kw):\n    return 1\n' } } }] }, sampleData: ['{}', deep(300)] },
    });
    expect(refused.status).toBe(400);
    expect(refused.json['message']).toContain('sampleData[1]: nested deeper than the limit of 256 levels');
  });

  it('serves :listResults, :compare and CSV for a stored row nested 5,000 levels deep', async () => {
    const store = t.server.store;
    const rowText = deep(5000);
    const input = await store.rows.createSet('acme');
    await store.rows.append(input, 0, ['{"plain":true}', rowText]);
    for (const id of ['deepjob', 'deepbase']) {
      const output = await store.rows.createSet('acme', { base: input });
      const now = nowIso();
      const job: JobRecord = {
        accountId: 'acme', id, displayName: id, createdBy: 'admin', createTime: now, updateTime: now, state: 'JOB_STATE_RUNNING',
        status: { code: 'OK', message: '' }, evaluatorId: 'e', inputDatasetId: 'in', outputDatasetId: `${id}-out`, inputRowSetId: input, outputRowSetId: output,
        settings: DEFAULT_JOB_SETTINGS, progress: { rowsTotal: 2, rowsDone: 0, rowsErrored: 0, startTime: '', endTime: '' },
        metrics: {}, outputStats: '', leaderboardIds: [],
      };
      await store.jobs.create(job, { runnable: true, ranges: [[0, 2]] });
      const lease = (await store.jobs.leaseChunk({ owner: 'test', now: nowIso(), expireTime: new Date(Date.now() + 60_000).toISOString(), accountLimit: 0 }))!;
      const results = [0, 1].map((idx) => ({ idx, score: 1, isScoreValid: true, errorKind: '', ms: 1, metrics: {} }));
      await store.jobs.completeChunk(lease, { outputRowSetId: output, rows: [{ idx: 0, text: '{"plain":true}' }, { idx: 1, text: rowText }], results, now: nowIso() });
      await store.jobs.update('acme', id, { state: 'JOB_STATE_COMPLETED', updateTime: nowIso() });
    }

    const listed = await t.call('GET', `/v1/accounts/acme/evaluationJobs/deepjob:listResults`);
    expect(listed.status).toBe(200);
    expect(listed.headers.get('content-type')).toContain('application/json');
    const items = listed.json['results'] as { index: number; row: unknown }[];
    expect(items.map((r) => r.index)).toEqual([0, 1]);
    expect(items[0]!.row).toEqual({ plain: true });
    expect(listed.text).toContain(`"row":${rowText}`);
    // A read mask inside the row parses the plain row and still answers for the deep one.
    const masked = await t.call('GET', `/v1/accounts/acme/evaluationJobs/deepjob:listResults?readMask=index,row.plain`);
    expect(masked.status).toBe(200);
    expect((masked.json['results'] as unknown[])[0]).toEqual({ index: 0, row: { plain: true } });
    const intoDeep = await t.call('GET', `/v1/accounts/acme/evaluationJobs/deepjob:listResults?readMask=index,row.a`);
    expect(intoDeep.status).toBe(200);

    const compared = await t.call('GET', `/v1/accounts/acme/evaluationJobs/deepjob:compare?baseline=deepbase&view=FULL`);
    expect(compared.status, compared.text.slice(0, 300)).toBe(200);
    expect(compared.text).toContain(rowText);
    expect((compared.json['rows'] as unknown[]).length).toBe(2);

    const csv = await t.call('GET', `/v1/accounts/acme/evaluationJobs/deepjob:listResults?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.text).toContain('[not shown: nested too deeply]');
    expect(csv.text.trim().split('\n')).toHaveLength(3);
  });
});
