// Every operation of the route table driven with malformed requests (fast-check, fixed seed).
// Operations come from the app's own /openapi.json, so a new endpoint is covered without edits.
// Each response must be a 4xx error envelope that names the problem, and nothing stored may change.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../src/http/app.js';
import type { Services } from '../src/services/index.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

type Schema = Record<string, unknown> & { type?: string | string[]; properties?: Record<string, Schema>; anyOf?: Schema[]; oneOf?: Schema[]; enum?: unknown[] };

interface Operation {
  method: string;
  path: string;
  operationId: string;
  pathParams: string[];
  queryParams: string[];
  body: 'json' | 'multipart' | 'octet-stream' | undefined;
  bodySchema: Schema | undefined;
}

interface Case {
  kind: string;
  path: string;
  query?: string;
  body?: string | Uint8Array | FormData;
  contentType?: string;
  /** Replaces the account's valid `Authorization` header. */
  authorization?: string;
  /** Text the error message must contain (a field path, or the problem). */
  mentions?: string | RegExp;
}

const SEED = 20240611;
const RUNS = 25;
const MIB = 1024 * 1024;

// The route table, read through the same document clients get; routes are only described here,
// never called, so the app needs no services.
const operations = await (async () => {
  const app = await buildHttpApp({} as Services);
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, Record<string, unknown>>> };
  await app.close();
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => toOperation(path, method, op)));
})();

function toOperation(path: string, method: string, op: Record<string, unknown>): Operation & { keyless: boolean } {
  const parameters = (op['parameters'] ?? []) as { name: string; in: string }[];
  const content = ((op['requestBody'] as { content?: Record<string, { schema: Schema }> } | undefined)?.content ?? {});
  const body = content['application/json'] ? 'json' : content['multipart/form-data'] ? 'multipart' : content['application/octet-stream'] ? 'octet-stream' : undefined;
  return {
    method: method.toUpperCase(),
    path,
    operationId: op['operationId'] as string,
    pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
    queryParams: parameters.filter((p) => p.in === 'query').map((p) => p.name),
    body,
    bodySchema: content['application/json']?.schema,
    keyless: Array.isArray(op['security']) && (op['security'] as unknown[]).length === 0,
  };
}

/** The resources made in beforeAll, by path parameter name, so item routes hit existing ones. */
const EXISTING: Record<string, string> = {
  accountId: 'acme',
  datasetId: 'ds',
  evaluatorId: 'ev',
  evaluationJobId: 'job',
  leaderboardId: 'lb',
  secretId: 'sec',
  keyId: 'admin',
};

/** Query parameters that an operation requires (e.g. :compare's baseline), set to existing resources. */
const CONTEXT_QUERY: Record<string, string> = { baseline: 'job' };

const BAD_IDS = ['UPPER', 'Ds', '..', '%2F', 'a%2Fb', '%2E%2E', 'x'.repeat(300), '', '-lead', 'trail-', 'a_b', '%00', 'a%20b'];

function urlOf(op: Operation, override?: { param: string; value: string }): string {
  return op.path.replace(/\{(\w+)\}/g, (_m, name: string) => (override?.param === name ? override.value : encodeURIComponent(EXISTING[name] ?? 'missing-id')));
}

function badPathParam(op: Operation): fc.Arbitrary<Case> {
  const value = fc.oneof(
    fc.constantFrom(...BAD_IDS),
    fc.string({ minLength: 1, maxLength: 40 }).map((s) => encodeURIComponent(`Z${s}`)),
  );
  return fc.record({ param: fc.constantFrom(...op.pathParams), value }).map((override) => ({ kind: `path ${override.param}=${override.value.slice(0, 40)}`, path: urlOf(op, override) }));
}

function badQuery(op: Operation): fc.Arbitrary<Case> {
  const options: [string, string, (string | RegExp)?][] = [[`zzBogus`, '1', 'zzBogus']];
  const has = (name: string) => op.queryParams.includes(name);
  if (has('pageSize')) options.push(['pageSize', '-1', 'pageSize'], ['pageSize', 'abc', 'pageSize'], ['pageSize', '1.5', 'pageSize']);
  if (has('pageToken')) options.push(['pageToken', 'garbage!!', 'pageToken'], ['pageToken', 'eyJub3QiOiJhIHRva2VuIn0', 'pageToken'], ['pageToken', 'x'.repeat(5000), 'pageToken']);
  if (has('filter')) options.push(['filter', '(((', 'filter'], ['filter', 'nosuchfield = 1', 'filter'], ['filter', 'state = "unterminated', 'filter'], ['filter', 'AND OR', 'filter'], ['filter', 'x'.repeat(5000), 'filter']);
  if (has('orderBy')) options.push(['orderBy', 'nosuchfield desc', 'orderBy'], ['orderBy', 'createTime sideways', 'orderBy'], ['orderBy', ',,', 'orderBy']);
  // Parameters an operation needs before it looks at the others get a valid value, so the error
  // can only be about the bad one.
  const context = Object.entries(CONTEXT_QUERY).filter(([name]) => has(name)).map(([name, value]) => `&${name}=${encodeURIComponent(value)}`).join('');
  return fc.constantFrom(...options).map(([name, value, mentions]) => ({
    kind: `query ${name}=${value.slice(0, 40)}`,
    path: urlOf(op),
    query: `${name}=${encodeURIComponent(value)}${context}`,
    mentions,
  }));
}

/** Field paths of a JSON schema with the schema of each, two object levels deep (unions: every branch). */
function fieldsOf(schema: Schema, prefix: string[] = [], depth = 0): { path: string[]; schema: Schema }[] {
  const branches = schema.anyOf ?? schema.oneOf ?? [schema];
  return branches.flatMap((branch) =>
    Object.entries(branch.properties ?? {}).flatMap(([name, sub]) => {
      const path = [...prefix, name];
      return [{ path, schema: sub }, ...(depth < 1 && sub.properties ? fieldsOf(sub, path, depth + 1) : [])];
    }),
  );
}

function accepts(schema: Schema, value: unknown): boolean {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return branches.some((b) => accepts(b, value));
  if ('const' in schema) return schema['const'] === value;
  if (schema.enum) return schema.enum.includes(value);
  if (schema.type === undefined) return true;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.some((type) => {
    if (type === 'integer') return Number.isInteger(value);
    if (type === 'null') return value === null;
    if (type === 'array') return Array.isArray(value);
    if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
    return typeof value === type;
  });
}

const WRONG_VALUES: unknown[] = [12345, 'not-of-this-type', true, null, [1, 'x'], { zzNested: 1 }, -0.5];

function nest(path: string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<Record<string, unknown>>((inner, key) => ({ [key]: inner }), value as Record<string, unknown>);
}

/** JSON text of arrays nested `levels` deep. */
function deep(levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels);
}

function json(body: unknown): Pick<Case, 'body' | 'contentType'> {
  return { body: JSON.stringify(body), contentType: 'application/json' };
}

function badJsonBody(op: Operation): fc.Arbitrary<Case> {
  const url = urlOf(op);
  const fields = fieldsOf(op.bodySchema ?? {});
  const typed = fields.flatMap((f) => WRONG_VALUES.filter((v) => !accepts(f.schema, v)).map((value) => ({ ...f, value })));
  const strings = fields.filter((f) => accepts(f.schema, 'x'));
  const arbs: fc.Arbitrary<Case>[] = [
    fc.constantFrom(...(fields.length ? fields.map((f) => f.path.slice(0, -1)) : [[]]), [] as string[]).chain((parent) =>
      fc.stringMatching(/^[a-z][A-Za-z0-9]{0,12}$/).map((name): Case => {
        const field = [...parent, `zz${name}`];
        return { kind: `unknown field ${field.join('.')}`, path: url, ...json(nest(field, 1)), mentions: field.join('.') };
      }),
    ),
    fc.constantFrom('[', '{', '{"a":}', 'undefined', 'NaN', "{'a': 1}", '{"a": 1} trailing', '\u0000', 'true false').map((text): Case => ({
      kind: `non-JSON ${text}`, path: url, body: text, contentType: 'application/json', mentions: /JSON/,
    })),
    fc.constantFrom('array', 'object').map((shape): Case => ({
      kind: `1000-level ${shape} body`,
      path: url,
      body: shape === 'array' ? deep(1000) : '{"zzDeep":'.repeat(1000) + '1' + '}'.repeat(1000),
      contentType: 'application/json',
      mentions: /body|zzDeep/,
    })),
    fc.constant<Case>({ kind: 'multipart to a JSON route', path: url, body: multipartBody('{}\n'), mentions: /body|[Cc]ontent-[Tt]ype|multipart/ }),
    fc.constant<Case>({ kind: 'huge unknown field', path: url, ...json({ zzHuge: 'x'.repeat(MIB) }), mentions: 'zzHuge' }),
  ];
  if (typed.length) {
    arbs.push(fc.constantFrom(...typed).map(({ path, value }): Case => ({ kind: `wrong type ${path.join('.')}=${JSON.stringify(value)}`, path: url, ...json(nest(path, value)), mentions: path.join('.') })));
    arbs.push(fc.constantFrom(...typed).map(({ path }): Case => ({
      kind: `1000 levels at ${path.join('.')}`, path: url, body: JSON.stringify(nest(path, 0)).replace('0', deep(1000)), contentType: 'application/json', mentions: path.join('.'),
    })));
  }
  if (strings.length) {
    arbs.push(fc.constantFrom(...strings).map(({ path }): Case => ({ kind: `invalid UTF-8 in ${path.join('.')}`, path: url, body: invalidUtf8(path), contentType: 'application/json', mentions: /UTF-8/ })));
  }
  return fc.oneof(...arbs);
}

/** A JSON text whose string at `path` holds bytes that are not UTF-8 (a lone continuation byte, an overlong form). */
function invalidUtf8(path: string[]): Uint8Array {
  const [before, after] = JSON.stringify(nest(path, 'MARK')).split('MARK') as [string, string];
  return new Uint8Array([...Buffer.from(before), 0x61, 0x80, 0xc0, 0xaf, 0xff, ...Buffer.from(after)]);
}

function badMultipartBody(op: Operation): fc.Arbitrary<Case> {
  const url = urlOf(op);
  return fc.constantFrom<Case>(
    { kind: 'JSON to a multipart route', path: url, ...json({ file: 'rows' }) },
    { kind: 'text to a multipart route', path: url, body: 'not multipart', contentType: 'text/plain' },
    { kind: 'multipart without a boundary', path: url, body: '--x\r\n\r\n--x--', contentType: 'multipart/form-data' },
  );
}

const BAD_AUTHORIZATION = ['', 'Bearer', 'Bearer ', 'Basic YWxhZGRpbjpvcGVu', 'Bearer tly_', `Bearer ${'x'.repeat(5000)}`, 'Bearer a b', 'tly_no-scheme'];

function badAuthorization(op: Operation): fc.Arbitrary<Case> {
  return fc.constantFrom(...BAD_AUTHORIZATION).map((authorization) => ({ kind: `authorization "${authorization.slice(0, 30)}"`, path: urlOf(op), authorization }));
}

function casesFor(op: Operation): fc.Arbitrary<Case> {
  const arbs: fc.Arbitrary<Case>[] = [badAuthorization(op)];
  if (op.pathParams.length) arbs.push(badPathParam(op));
  if (op.queryParams.length) arbs.push(badQuery(op));
  if (op.body === 'json') arbs.push(badJsonBody(op));
  if (op.body === 'multipart') arbs.push(badMultipartBody(op));
  return fc.oneof(...arbs);
}

async function send(t: TestServer, method: string, c: Case): Promise<{ status: number; text: string; json: unknown }> {
  const headers: Record<string, string> = { authorization: c.authorization ?? `Bearer ${t.key}` };
  if (c.contentType) headers['content-type'] = c.contentType;
  const response = await fetch(`${t.url}${c.path}${c.query ? `?${c.query}` : ''}`, { method, headers, body: c.body as BodyInit | undefined });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, text, json: parsed };
}

function expectClientError(c: Case, response: { status: number; text: string; json: unknown }): void {
  const where = `${c.kind}: ${response.status} ${response.text.slice(0, 300)}`;
  expect(response.status, where).toBeGreaterThanOrEqual(400);
  expect(response.status, where).toBeLessThan(500);
  expect(response.json, where).toEqual({ code: expect.any(Number), message: expect.any(String), details: [] });
  const message = (response.json as { message: string }).message;
  expect(message.trim(), where).not.toBe('');
  if (typeof c.mentions === 'string') expect(message, where).toContain(c.mentions);
  else if (c.mentions) expect(message, where).toMatch(c.mentions);
}

const EVALUATE = [
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    ok = float(messages[-1]["content"] == ground_truth)',
  '    return {"score": ok, "reason": "exact match" if ok else "mismatch"}',
  '',
].join('\n');

const COLLECTIONS = ['datasets', 'evaluators', 'evaluationJobs', 'leaderboards', 'secrets', 'apiKeys'];

async function snapshot(t: TestServer): Promise<unknown> {
  const lists = await Promise.all(COLLECTIONS.map((c) => t.call('GET', `/v1/accounts/${t.accountId}/${c}?pageSize=200`)));
  return Object.fromEntries(lists.map((list, i) => [COLLECTIONS[i], list.json]));
}

describe('malformed requests to every operation (SQLite)', () => {
  let t: TestServer;
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    t = await startTestServer('sqlite', { rateLimitPerMinute: 0, workerSlots: 1 });
    await t.call('POST', `${a()}/evaluatorsV2`, {
      body: { evaluatorId: 'ev', evaluator: { criteria: [{ name: 'exact', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }] } },
    });
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: 'ds' } });
    const rows = [1, 2, 3].map((i) => ({ messages: [{ role: 'user', content: `${i}` }, { role: 'assistant', content: `${i}` }], ground_truth: `${i}` }));
    expect((await t.call('POST', `${a()}/datasets/ds:upload`, { body: multipartBody(jsonlFile(rows)) })).status).toBe(200);
    await waitFor(t, `${a()}/evaluators/ev`, (e) => e['state'] === 'ACTIVE');
    await t.call('POST', `${a()}/leaderboards`, { body: { leaderboardId: 'lb', leaderboard: { displayName: 'board' } } });
    await t.call('POST', `${a()}/secrets`, { body: { keyName: 'FUZZ_TOKEN', value: 'v', name: 'sec' } });
    const job = await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: 'job', evaluationJob: { evaluator: `accounts/acme/evaluators/ev`, inputDataset: `accounts/acme/datasets/ds`, outputDataset: `accounts/acme/datasets/job-out` } },
    });
    expect(job.status, job.text).toBe(200);
    await waitFor(t, `${a()}/evaluationJobs/job`, (j) => j['state'] === 'JOB_STATE_COMPLETED');
    for (const id of ['ds', 'job-out']) expect((await t.call('GET', `${a()}/datasets/${id}`)).json['state']).toBe('READY');
  }, 240_000);
  afterAll(async () => {
    await t?.close();
  });

  const keyed = operations.filter((op) => !op.keyless);
  it('covers every keyed operation of the route table', () => {
    expect(keyed.length).toBeGreaterThan(40);
  });

  it.each(keyed.map((op) => [`${op.method} ${op.path}`, op] as const))('%s', async (_name, op) => {
    const before = await snapshot(t);
    await fc.assert(
      fc.asyncProperty(casesFor(op), async (c) => expectClientError(c, await send(t, op.method, c))),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(await snapshot(t)).toEqual(before);
  }, 60_000);

  it('signed-URL PUT and GET refuse random tokens and bodies', async () => {
    const before = await snapshot(t);
    const token = fc.oneof(fc.string({ minLength: 1, maxLength: 80 }), fc.stringMatching(/^[A-Za-z0-9_-]{20,64}$/), fc.constant('x'.repeat(300)));
    const filename = fc.oneof(fc.constant('ds.jsonl'), fc.string({ minLength: 1, maxLength: 30 }));
    await fc.assert(
      fc.asyncProperty(token, filename, fc.uint8Array({ maxLength: 2048 }), fc.boolean(), async (tok, name, bytes, put) => {
        const c: Case = { kind: `${put ? 'PUT' : 'GET'} signed ${tok.slice(0, 30)}`, path: `/signed/${encodeURIComponent(tok)}/${encodeURIComponent(name)}` };
        if (put) Object.assign(c, { body: bytes, contentType: 'application/octet-stream' });
        expectClientError(c, await send(t, put ? 'PUT' : 'GET', c));
      }),
      { numRuns: 60, seed: SEED, endOnFailure: true },
    );
    // A real download URL with one character of its token changed is refused too.
    const endpoint = await t.call('GET', `${a()}/datasets/ds:getDownloadEndpoint`);
    const url = Object.values(endpoint.json['filenameToSignedUrls'] as Record<string, string>)[0]!;
    const tampered = url.replace(/\/signed\/(.)/, (_m, ch: string) => `/signed/${ch === 'A' ? 'B' : 'A'}`);
    const path = new URL(tampered).pathname;
    expectClientError({ kind: 'GET tampered', path }, await send(t, 'GET', { kind: 'GET tampered', path }));
    const put: Case = { kind: 'PUT tampered', path, body: '{}\n', contentType: 'application/octet-stream' };
    expectClientError(put, await send(t, 'PUT', put));
    expect(await snapshot(t)).toEqual(before);
  }, 60_000);
});
