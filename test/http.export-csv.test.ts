import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

const EVALUATE = [
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    answer = messages[-1]["content"]',
  '    if answer == "boom":',
  '        raise ValueError("cannot score boom")',
  '    ok = float(answer == ground_truth)',
  '    return {"score": ok, "reason": \'said "%s", expected %s\' % (answer, ground_truth), "metrics": {"exact": {"score": ok, "reason": "", "is_score_valid": True}}}',
  '',
].join('\n');

const answers = ['1', 'x', 'boom', '4', 'y\nz'];
const rows = answers.map((answer, i) => ({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: answer }], ground_truth: String(i + 1) }));

/** A minimal RFC 4180 reader, to check what a spreadsheet would see. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' && field === '' ) {
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '"' && text[j + 1] === '"') { field += '"'; j++; } else if (text[j] === '"') break; else field += text[j];
      }
      i = j;
    } else if (ch === ',') { record.push(field); field = ''; } else if (ch === '\n') { record.push(field); records.push(record); record = []; field = ''; } else field += ch;
  }
  return records;
}

describe.each(STORE_KINDS)('CSV export over HTTP on %s', (kind) => {
  let t: TestServer;
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    t = await startTestServer(kind);
    await t.call('POST', `${a()}/evaluatorsV2`, { body: { evaluatorId: 'exact', evaluator: { criteria: [{ name: 'exact', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }] } } });
    await waitFor(t, `${a()}/evaluators/exact`, (e) => e['state'] === 'ACTIVE');
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: 'rows' } });
    expect((await t.call('POST', `${a()}/datasets/rows:upload`, { body: multipartBody(jsonlFile(rows)) })).status).toBe(200);
    await t.call('POST', `${a()}/evaluationJobs`, { body: { evaluationJobId: 'job', evaluationJob: { evaluator: 'exact', inputDataset: 'rows', outputDataset: 'job-out', settings: { chunkRows: 2 } } } });
    await waitFor(t, `${a()}/evaluationJobs/job`, (j) => j['state'] === 'JOB_STATE_COMPLETED');
  });
  afterAll(async () => {
    await t.close();
  });

  it(':listResults?format=csv streams every row with a column per metric', async () => {
    const response = await t.call('GET', `${a()}/evaluationJobs/job:listResults?format=csv`);
    expect(response.status, response.text).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [header, ...records] = parseCsv(response.text);
    expect(header).toEqual(['index', 'error_kind', 'ms', 'score', 'is_score_valid', 'error', 'reason', 'metric.exact', 'messages', 'ground_truth']);
    expect(records.map((r) => r[0])).toEqual(['0', '1', '2', '3', '4']);
    const byName = records.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]])));
    expect(byName[0]).toMatchObject({ score: '1', is_score_valid: 'true', error_kind: '', reason: 'exact: said "1", expected 1', 'metric.exact': '1', ground_truth: '1' });
    expect(JSON.parse(byName[0]!['messages']!)).toEqual(rows[0]!.messages);
    expect(byName[1]).toMatchObject({ score: '0', 'metric.exact': '0' });
    expect(byName[2]).toMatchObject({ error_kind: 'exception', is_score_valid: 'false', 'metric.exact': '' });
    expect(byName[2]!['error']).toContain('cannot score boom');
    expect(byName[4]!['reason']).toBe('exact: said "y\nz", expected 5');
    expect(Number(byName[4]!['ms'])).toBeGreaterThanOrEqual(0);
  });

  it('honours filter and orderBy, and Accept: text/csv', async () => {
    const response = await t.call('GET', `${a()}/evaluationJobs/job:listResults?filter=${encodeURIComponent('score = 0')}&orderBy=${encodeURIComponent('index desc')}`, { headers: { accept: 'text/csv' } });
    expect(response.status, response.text).toBe(200);
    expect(parseCsv(response.text).slice(1).map((r) => r[0])).toEqual(['4', '2', '1']);
    const bad = await t.call('GET', `${a()}/evaluationJobs/job:listResults?format=csv&filter=nope`);
    expect(bad.status).toBe(400);
    expect(bad.json['message']).toContain('filter');
    expect((await t.call('GET', `${a()}/evaluationJobs/job:listResults?format=xml`)).status).toBe(400);
    expect((await t.call('GET', `${a()}/evaluationJobs/nope:listResults?format=csv`)).status).toBe(404);
    // JSON stays the default.
    expect((await t.call('GET', `${a()}/evaluationJobs/job:listResults`)).json['results']).toHaveLength(5);
  });

  it('downloads the output dataset as CSV through a signed URL', async () => {
    const endpoint = await t.call('GET', `${a()}/datasets/job-out:getDownloadEndpoint?format=csv`);
    expect(endpoint.status, endpoint.text).toBe(200);
    const urls = endpoint.json['filenameToSignedUrls'] as Record<string, string>;
    expect(Object.keys(urls)).toEqual(['job-out.csv']);
    const download = await fetch(urls['job-out.csv']!);
    expect(download.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [header, ...records] = parseCsv(await download.text());
    expect(header).toEqual(['index', 'score', 'is_score_valid', 'error', 'reason', 'metric.exact', 'messages', 'ground_truth']);
    expect(records.map((r) => [r[0], r[1]])).toEqual([['0', '1'], ['1', '0'], ['2', '0'], ['3', '1'], ['4', '0']]);
    // A dataset never scored has only its own columns; JSONL stays the default.
    const input = await t.call('GET', `${a()}/datasets/rows:getDownloadEndpoint?format=csv`);
    const inputCsv = parseCsv(await (await fetch(Object.values(input.json['filenameToSignedUrls'] as Record<string, string>)[0]!)).text());
    expect(inputCsv[0]).toEqual(['index', 'messages', 'ground_truth']);
    expect(inputCsv).toHaveLength(6);
    const jsonl = await t.call('GET', `${a()}/datasets/job-out:getDownloadEndpoint`);
    expect(Object.keys(jsonl.json['filenameToSignedUrls'] as object)).toEqual(['job-out.jsonl']);
    expect((await t.call('GET', `${a()}/datasets/job-out:getDownloadEndpoint?format=xls`)).status).toBe(400);
  });
});
