import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

const CONNECT = [
  'import socket',
  'def evaluate(messages, ground_truth=None, port=None, **kwargs):',
  '    try:',
  '        socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()',
  '        return {"score": 1.0, "reason": "connected"}',
  '    except OSError as error:',
  '        return {"score": 0.0, "reason": "blocked: %s" % error}',
  '',
].join('\n');

/** Egress is off unless an evaluator asks for it; a job says which it had. */
describe('evaluator egress', () => {
  let t: TestServer;
  let listener: Server;
  let port = 0;
  let connections = 0;
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    listener = createServer((socket) => {
      connections++;
      socket.end();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as { port: number }).port;
    t = await startTestServer('sqlite');
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: 'probe' } });
    await t.call('POST', `${a()}/datasets/probe:upload`, { body: multipartBody(jsonlFile([{ messages: [{ role: 'user', content: 'x' }], port }])) });
  });
  afterAll(async () => {
    await t.close();
    listener.close();
  });

  async function run(evaluatorId: string, allowEgress: boolean | undefined) {
    const created = await t.call('POST', `${a()}/evaluatorsV2`, {
      body: { evaluatorId, evaluator: { criteria: [{ name: 'net', codeSnippets: { fileContents: { 'main.py': CONNECT } } }], ...(allowEgress === undefined ? {} : { allowEgress }) } },
    });
    expect(created.json['allowEgress']).toBe(allowEgress === true);
    await waitFor(t, `${a()}/evaluators/${evaluatorId}`, (e) => e['state'] === 'ACTIVE');
    const job = await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: `${evaluatorId}-job`, evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/${evaluatorId}`, inputDataset: `accounts/${t.accountId}/datasets/probe`, outputDataset: `accounts/${t.accountId}/datasets/${evaluatorId}-out` } },
    });
    expect(job.json['egress']).toBe(allowEgress === true);
    await waitFor(t, `${a()}/evaluationJobs/${evaluatorId}-job`, (j) => j['state'] === 'JOB_STATE_COMPLETED');
    const results = await t.call('GET', `${a()}/evaluationJobs/${evaluatorId}-job:listResults`);
    return (results.json['results'] as { score: number; row: { evaluation_result: { reason: string } } }[])[0]!;
  }

  it('keeps the network closed by default', async () => {
    const result = await run('closed', undefined);
    expect(result.score).toBe(0);
    expect(result.row.evaluation_result.reason).toMatch(/^net: blocked/);
    expect(connections).toBe(0);
  });

  it('opens it for an evaluator with allowEgress, and the job shows it', async () => {
    const result = await run('open', true);
    expect(result).toMatchObject({ score: 1, row: { evaluation_result: { reason: 'net: connected' } } });
    expect(connections).toBe(1);
  });
});
