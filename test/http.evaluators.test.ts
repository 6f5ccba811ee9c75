import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowIso } from '../src/domain/types.js';
import { tarGz } from './support/archives.js';
import { STORE_KINDS } from './support/databases.js';
import { startTestServer, waitFor, type TestServer } from './support/server.js';

const EXACT_MATCH = [
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    return {"score": float(messages[-1]["content"] == ground_truth), "reason": "exact match"}',
  '',
].join('\n');

/** The seed page's payload shape: criteria with code snippets. */
function seedPayload(id: string, files: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    evaluatorId: id,
    evaluator: {
      displayName: `Evaluator ${id}`,
      description: 'scores exact matches',
      criteria: [
        {
          type: 'CODE_SNIPPETS',
          name: 'exact',
          description: 'exact match',
          codeSnippets: { language: 'python', fileContents: files, entryFile: 'main.py', entryFunc: 'evaluate' },
        },
      ],
      requirements: '',
      commitHash: 'abc123',
      source: { type: 'TYPE_UPLOAD', githubRepositoryName: '' },
      defaultDataset: '',
      ...extra,
    },
  };
}

describe.each(STORE_KINDS)('evaluators over HTTP on %s', (kind) => {
  let t: TestServer;
  const base = () => `/v1/accounts/${t.accountId}/evaluators`;
  const settled = (e: Record<string, unknown>) => e['state'] === 'ACTIVE' || e['state'] === 'BUILD_FAILED';

  beforeAll(async () => {
    t = await startTestServer(kind);
  });
  afterAll(async () => {
    await t.close();
  });

  async function createAndSettle(payload: object, path = `/v1/accounts/${t.accountId}/evaluatorsV2`) {
    const created = await t.call('POST', path, { body: payload });
    expect(created.status, created.text).toBe(200);
    const id = (created.json['name'] as string).split('/').pop()!;
    return waitFor(t, `${base()}/${id}`, settled);
  }

  async function uploadArchive(id: string, archive: Buffer, filename = 'proj.tar.gz') {
    const endpoint = await t.call('POST', `${base()}/${id}:getUploadEndpoint`, { body: { filenameToSize: { [filename]: String(archive.length) } } });
    expect(endpoint.status, endpoint.text).toBe(200);
    const url = (endpoint.json['filenameToSignedUrls'] as Record<string, string>)[filename]!;
    const put = await t.call('PUT', url, { key: null, body: new Uint8Array(archive), headers: { 'content-type': 'application/octet-stream' } });
    expect(put.status, put.text).toBe(200);
    const validated = await t.call('POST', `${base()}/${id}:validateUpload`, { body: {} });
    expect(validated.status, validated.text).toBe(200);
    return waitFor(t, `${base()}/${id}`, settled);
  }

  async function buildLog(id: string): Promise<string> {
    const endpoint = await t.call('GET', `${base()}/${id}:getBuildLogEndpoint`);
    const uri = endpoint.json['buildLogSignedUri'] as string;
    expect(uri).toMatch(/^http/);
    return (await t.call('GET', uri, { key: null })).text;
  }

  it('creates from the seed payload, builds to ACTIVE and echoes the fields', async () => {
    const created = await t.call('POST', `/v1/accounts/${t.accountId}/evaluatorsV2`, { body: seedPayload('exact', { 'main.py': EXACT_MATCH }) });
    expect(created.json).toMatchObject({ name: `accounts/${t.accountId}/evaluators/exact`, state: 'BUILDING', commitHash: 'abc123' });
    const done = await waitFor(t, `${base()}/exact`, settled);
    expect(done).toMatchObject({ state: 'ACTIVE', status: { code: 'OK' }, displayName: 'Evaluator exact', source: { type: 'TYPE_UPLOAD' } });
    expect(await buildLog('exact')).toContain('import ok');
    const listed = await t.call('GET', `${base()}?filter=${encodeURIComponent('state = ACTIVE')}`);
    expect((listed.json['evaluators'] as { name: string }[]).map((e) => e.name)).toContain(`accounts/${t.accountId}/evaluators/exact`);
  });

  it('accepts the legacy create with multiMetrics, rollupSettings and parent', async () => {
    const legacy = {
      evaluatorId: 'legacy',
      parent: `accounts/${t.accountId}`,
      evaluator: {
        displayName: 'Legacy', multiMetrics: true, rollupSettings: { skipRollup: true }, requirements: '',
        criteria: [{ name: 'eval', type: 'CODE_SNIPPETS', description: 'Metric: eval', codeSnippets: { language: 'python', fileContents: { 'main.py': EXACT_MATCH } } }],
      },
    };
    const done = await createAndSettle(legacy, base());
    expect(done).toMatchObject({ state: 'ACTIVE', multiMetrics: true, rollupSettings: { skipRollup: true } });
  });

  it('fails builds with a status that names the cause', async () => {
    const syntax = await createAndSettle(seedPayload('syntax', { 'main.py': 'def evaluate(messages, **kw):\n    return 1 +\n' }));
    expect(syntax).toMatchObject({ state: 'BUILD_FAILED', status: { code: 'FAILED_PRECONDITION' } });
    expect((syntax['status'] as { message: string }).message).toMatch(/SyntaxError in main.py, line 2/);

    const missing = await createAndSettle({ evaluatorId: 'nofunc', evaluator: { criteria: [{ name: 'x', codeSnippets: { fileContents: { 'main.py': 'x = 1\n' }, entryFunc: 'score' } }] } });
    expect((missing['status'] as { message: string }).message).toContain('function score not found in main.py');

    const noFile = await createAndSettle({ evaluatorId: 'nofile', evaluator: { criteria: [{ name: 'x', codeSnippets: { fileContents: { 'other.py': 'x = 1\n' }, entryFile: 'main.py' } }] } });
    expect((noFile['status'] as { message: string }).message).toContain('entry file "main.py"');
    expect(await buildLog('nofile')).toContain('build failed');
  });

  it('refuses invalid payloads naming the field, storing nothing', async () => {
    const bad = [
      [{ evaluatorId: 'Bad', evaluator: {} }, 'evaluatorId'],
      [{ evaluatorId: 'ok', evaluator: { entryPoint: 'not a path' } }, 'evaluator.entryPoint'],
      [{ evaluatorId: 'ok', evaluator: { criteria: [{ codeSnippets: { fileContents: { '../escape.py': '' } } }] } }, 'evaluator.criteria[0].codeSnippets.fileContents'],
      [{ evaluatorId: 'ok', evaluator: { criteria: [{ codeSnippets: { entryFunc: 'not-a-name' } }] } }, 'evaluator.criteria[0].codeSnippets.entryFunc'],
      [{ evaluatorId: 'ok', evaluator: { bogus: 1 } }, 'evaluator.bogus: unknown field'],
    ] as const;
    for (const [body, field] of bad) {
      const response = await t.call('POST', `/v1/accounts/${t.accountId}/evaluatorsV2`, { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json['message']).toContain(field);
    }
    expect((await t.call('GET', `${base()}/ok`)).status).toBe(404);
    await createAndSettle(seedPayload('dup', { 'main.py': EXACT_MATCH }));
    const dup = await t.call('POST', `/v1/accounts/${t.accountId}/evaluatorsV2`, { body: seedPayload('dup', { 'main.py': EXACT_MATCH }) });
    expect(dup.status).toBe(409);
  });

  it('generates an id when none is given, normalising module::func entry points', async () => {
    const created = await t.call('POST', `/v1/accounts/${t.accountId}/evaluatorsV2`, { body: { evaluator: { entryPoint: 'pkg.scoring::grade' } } });
    expect(created.status).toBe(200);
    expect(created.json['name']).toMatch(new RegExp(`^accounts/${t.accountId}/evaluators/[a-z][a-z0-9]{11}$`));
    expect(created.json).toMatchObject({ entryPoint: 'pkg/scoring.py::grade', state: 'BUILDING', status: { message: expect.stringContaining(':getUploadEndpoint') } });
  });

  it('builds from an uploaded archive, and refuses unsafe archives with a clear status', async () => {
    await t.call('POST', `/v1/accounts/${t.accountId}/evaluatorsV2`, { body: { evaluatorId: 'uploaded', evaluator: {} } });
    const early = await t.call('POST', `${base()}/uploaded:validateUpload`, { body: {} });
    expect(early.status).toBe(400);
    const archive = await tarGz([
      { name: 'proj/', type: 'directory' },
      { name: 'proj/requirements.txt', content: '' },
      { name: 'proj/main.py', content: EXACT_MATCH },
    ]);
    expect(await uploadArchive('uploaded', archive)).toMatchObject({ state: 'ACTIVE' });
    const source = await t.call('GET', `${base()}/uploaded:getSourceCodeSignedUrl`);
    const url = (source.json['filenameToSignedUrls'] as Record<string, string>)['proj.tar.gz']!;
    const downloaded = await fetch(url);
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(archive)).toBe(true);

    const hostile = await tarGz([{ name: 'proj/main.py', content: EXACT_MATCH }, { name: '../../etc/evil.py', content: 'x' }]);
    const refused = await uploadArchive('uploaded', hostile);
    expect(refused['state']).toBe('BUILD_FAILED');
    expect((refused['status'] as { message: string }).message).toMatch(/evil\.py/);

    const badName = await t.call('POST', `${base()}/uploaded:getUploadEndpoint`, { body: { filenameToSize: { 'code.rar': '10' } } });
    expect(badName.status).toBe(400);
    expect(badName.json['message']).toContain('filenameToSize');
  });

  it('rebuilds when requirements or code change, not for metadata; prepareCodeUpload waits for an upload', async () => {
    await createAndSettle(seedPayload('patchy', { 'main.py': EXACT_MATCH }));
    const renamed = await t.call('PATCH', `${base()}/patchy`, { body: { displayName: 'Renamed' } });
    expect(renamed.json).toMatchObject({ displayName: 'Renamed', state: 'ACTIVE' });

    const changed = await t.call('PATCH', `${base()}/patchy`, {
      body: { criteria: [{ name: 'exact', codeSnippets: { fileContents: { 'main.py': 'def evaluate(messages, **kw):\n    return 0.5\n' } } }] },
    });
    expect(changed.json['state']).toBe('BUILDING');
    expect(await waitFor(t, `${base()}/patchy`, settled)).toMatchObject({ state: 'ACTIVE', displayName: 'Renamed' });

    const prepared = await t.call('PATCH', `${base()}/patchy?prepareCodeUpload=true`, { body: {} });
    expect(prepared.json).toMatchObject({ state: 'BUILDING', status: { message: expect.stringContaining(':validateUpload') } });
    const badQuery = await t.call('PATCH', `${base()}/patchy?prepareCodeUpload=yes`, { body: {} });
    expect(badQuery.status).toBe(400);
    expect(badQuery.json['message']).toContain('prepareCodeUpload');
  });

  it('resumes a build that a previous server process left unfinished', async () => {
    const { store } = t.server;
    const now = nowIso();
    await store.evaluators.create({
      accountId: t.accountId, id: 'orphan', flavour: 'v2', displayName: 'orphan', description: '', createdBy: 'admin',
      createTime: now, updateTime: now, state: 'BUILDING', status: { code: 'OK', message: 'build queued' },
      spec: { criteria: [{ name: 'exact', codeSnippets: { fileContents: { 'main.py': EXACT_MATCH } } }], requirements: '', entryPoint: '', commitHash: '', defaultDataset: '' },
      sourceBlobId: null, sourceFilename: '', buildGeneration: 1, buildRequestTime: now, buildLogBlobId: null, buildDir: '', envHash: '', mode: '',
    });
    expect(await t.server.services.builds.resumePending()).toBeGreaterThanOrEqual(1);
    expect(await waitFor(t, `${base()}/orphan`, settled)).toMatchObject({ state: 'ACTIVE' });
  });

  it('deletes an evaluator with its source and logs', async () => {
    await createAndSettle(seedPayload('gone', { 'main.py': EXACT_MATCH }));
    expect((await t.call('DELETE', `${base()}/gone`)).json).toEqual({});
    expect((await t.call('GET', `${base()}/gone`)).status).toBe(404);
    expect((await t.call('DELETE', `${base()}/gone`)).status).toBe(404);
  });
});
