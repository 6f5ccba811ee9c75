import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarGz } from './support/archives.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

/** eval-protocol entry points in groupwise and all modes: each call must get its rows together. */
const MODES_PY = `
from typing import List
from eval_protocol.models import EvaluateResult, EvaluationRow
from eval_protocol.pytest import NoOpRolloutProcessor, evaluation_test

ROWS = [EvaluationRow(messages=[{"role": "user", "content": "hi"}])]


@evaluation_test(input_rows=[ROWS], rollout_processor=NoOpRolloutProcessor(), mode="groupwise")
def test_longest_in_group(rows: List[EvaluationRow]) -> List[EvaluationRow]:
    longest = max(len(r.messages[-1].content) for r in rows)
    for r in rows:
        best = len(r.messages[-1].content) == longest
        r.evaluation_result = EvaluateResult(score=1.0 if best else 0.0, reason=f"group of {len(rows)}")
    return rows


@evaluation_test(input_rows=[ROWS], rollout_processor=NoOpRolloutProcessor(), mode="all")
def test_rank_all(rows: List[EvaluationRow]) -> List[EvaluationRow]:
    for i, r in enumerate(rows):
        r.evaluation_result = EvaluateResult(score=i / max(len(rows) - 1, 1), reason=f"all {len(rows)} rows")
    return rows
`;

/** 3 groups (question ids q0, q1, q2) of 3, 4 and 5 answers: the longest answer of each wins. */
const ROWS = [3, 4, 5].flatMap((size, q) =>
  Array.from({ length: size }, (_, k) => ({
    messages: [{ role: 'user', content: `question ${q}` }, { role: 'assistant', content: 'x'.repeat(k + 1) }],
    input_metadata: { row_id: `q${q}` },
  })),
);

describe('groupwise and all-rows evaluators', () => {
  let t: TestServer;
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    t = await startTestServer('sqlite');
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: 'groups' } });
    await t.call('POST', `${a()}/datasets/groups:upload`, { body: multipartBody(jsonlFile(ROWS)) });
  });
  afterAll(async () => {
    await t.close();
  });

  async function entryPointEvaluator(id: string, func: string) {
    await t.call('POST', `${a()}/evaluatorsV2`, { body: { evaluatorId: id, evaluator: { entryPoint: `test_modes.py::${func}` } } });
    const archive = await tarGz([{ name: 'proj/requirements.txt', content: '' }, { name: 'proj/test_modes.py', content: MODES_PY }]);
    const endpoint = await t.call('POST', `${a()}/evaluators/${id}:getUploadEndpoint`, { body: { filenameToSize: { 'proj.tar.gz': String(archive.length) } } });
    const url = (endpoint.json['filenameToSignedUrls'] as Record<string, string>)['proj.tar.gz']!;
    await t.call('PUT', url, { key: null, body: new Uint8Array(archive), headers: { 'content-type': 'application/octet-stream' } });
    await t.call('POST', `${a()}/evaluators/${id}:validateUpload`, { body: {} });
    const built = await waitFor(t, `${a()}/evaluators/${id}`, (e) => e['state'] !== 'BUILDING', 600_000);
    expect(built['state'], JSON.stringify(built['status'])).toBe('ACTIVE');
  }

  async function runJob(id: string, evaluatorId: string) {
    await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: id, evaluationJob: { evaluator: `${a().slice(4)}/evaluators/${evaluatorId}`, inputDataset: `${a().slice(4)}/datasets/groups`, outputDataset: `${a().slice(4)}/datasets/${id}-out`, settings: { chunkRows: 4 } } },
    });
    const done = await waitFor(t, `${a()}/evaluationJobs/${id}`, (j) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED'].includes(j['state'] as string), 120_000);
    expect(done['state'], JSON.stringify(done['status'])).toBe('JOB_STATE_COMPLETED');
    const results = await t.call('GET', `${a()}/evaluationJobs/${id}:listResults?orderBy=index&pageSize=50`);
    return results.json['results'] as { index: number; score: number; row: { evaluation_result: { reason: string } } }[];
  }

  it('gives a groupwise function each group whole, even with chunks smaller than a group', async () => {
    await entryPointEvaluator('grouped', 'test_longest_in_group');
    const results = await runJob('groupjob', 'grouped');
    expect(results.map((r) => r.row.evaluation_result.reason)).toEqual([...Array(3).fill('group of 3'), ...Array(4).fill('group of 4'), ...Array(5).fill('group of 5')]);
    expect(results.map((r) => r.score)).toEqual([0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  }, 700_000);

  it('gives an all-rows function every row of the dataset in one call', async () => {
    await entryPointEvaluator('whole', 'test_rank_all');
    const results = await runJob('alljob', 'whole');
    expect(new Set(results.map((r) => r.row.evaluation_result.reason))).toEqual(new Set(['all 12 rows']));
    expect(results.map((r) => r.score)).toEqual(Array.from({ length: 12 }, (_, i) => i / 11));
  }, 700_000);
});
