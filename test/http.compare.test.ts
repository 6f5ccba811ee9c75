import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binomialTwoSided } from '../src/domain/paired-stats.js';
import { STORE_KINDS } from './support/databases.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

/** Scores a row with one of its own fields, so each test knows every score in advance. */
const evaluator = (field: string) =>
  [
    'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
    `    s = float(kwargs["${field}"])`,
    '    return {"score": s, "reason": "given"}',
    '',
  ].join('\n');

const baselineScore = (i: number) => (i % 4) / 4;
/** Rows 3, 13, ... regress by 0.25 (where they can); rows 7, 17, ... improve by up to 0.5. */
const candidateScore = (i: number) => {
  const a = baselineScore(i);
  if (i % 10 === 3 && a >= 0.25) return a - 0.25;
  if (i % 10 === 7) return Math.min(1, a + 0.5);
  return a;
};
const row = (i: number, a: number, b: number) => ({ messages: [{ role: 'user', content: `q${i}` }], a, b, input_metadata: { row_id: `r${i}` } });
const finished = (j: Record<string, unknown>) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'].includes(j['state'] as string);

interface Paired { pairs: number; meanDiff: number; ci95Low: number; ci95High: number; pValue: number; test: string }

describe.each(STORE_KINDS)('comparing two jobs over HTTP on %s', (kind) => {
  let t: TestServer;
  const a = () => `/v1/accounts/${t.accountId}`;
  const compare = (job: string, query: string) => t.call('GET', `${a()}/evaluationJobs/${job}:compare?${query}`);

  beforeAll(async () => {
    t = await startTestServer(kind, { workerSlots: 2 });
    for (const [id, field] of [['by-a', 'a'], ['by-b', 'b']] as const) {
      await t.call('POST', `${a()}/evaluatorsV2`, { body: { evaluatorId: id, evaluator: { criteria: [{ name: 'pick', codeSnippets: { language: 'python', fileContents: { 'main.py': evaluator(field) } } }] } } });
    }
    for (const id of ['by-a', 'by-b']) await waitFor(t, `${a()}/evaluators/${id}`, (e) => e['state'] === 'ACTIVE');
    await dataset('graded', Array.from({ length: 60 }, (_, i) => row(i, baselineScore(i), candidateScore(i))));
    // Pass/fail: 9 rows go 0 -> 1, 2 go 1 -> 0, the rest stay.
    await dataset('passfail', Array.from({ length: 40 }, (_, i) => row(i, i < 9 ? 0 : i < 11 ? 1 : i % 2, i < 9 ? 1 : i < 11 ? 0 : i % 2)));
    // A filtered, reordered copy that grew: rows 10..59 backwards, and 5 new ones.
    const copy = [...Array.from({ length: 50 }, (_, k) => 59 - k), 100, 101, 102, 103, 104];
    await dataset('copy', copy.map((i) => row(i, 0, candidateScore(i))));
    await t.call('POST', `${a()}/leaderboards`, { body: { leaderboardId: 'board', leaderboard: { displayName: 'board' } } });
    await job('base', 'by-a', 'graded', ['board']);
    await job('cand', 'by-b', 'graded', ['board']);
    await job('pf-base', 'by-a', 'passfail');
    await job('pf-cand', 'by-b', 'passfail');
    await job('copy-cand', 'by-b', 'copy', ['board']);
  });
  afterAll(async () => {
    await t.close();
  });

  async function dataset(id: string, rows: object[]) {
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: id } });
    const uploaded = await t.call('POST', `${a()}/datasets/${id}:upload`, { body: multipartBody(jsonlFile(rows)) });
    expect(uploaded.status, uploaded.text).toBe(200);
  }

  async function job(id: string, evaluatorId: string, input: string, leaderboardIds: string[] = []) {
    const created = await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: id, leaderboardIds, evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/${evaluatorId}`, inputDataset: `accounts/${t.accountId}/datasets/${input}`, outputDataset: `accounts/${t.accountId}/datasets/${id}-out`, settings: { chunkRows: 16 } } },
    });
    expect(created.status, created.text).toBe(200);
    expect((await waitFor(t, `${a()}/evaluationJobs/${id}`, finished))['state']).toBe('JOB_STATE_COMPLETED');
  }

  it('counts what moved and gives the paired diff of means, per metric too, against a direct computation', async () => {
    const response = await compare('cand', 'baseline=base');
    expect(response.status, response.text).toBe(200);
    const diffs = Array.from({ length: 60 }, (_, i) => candidateScore(i) - baselineScore(i));
    const summary = response.json['summary'] as Record<string, unknown>;
    expect(summary).toMatchObject({
      rows: 60, regressed: diffs.filter((d) => d < 0).length, improved: diffs.filter((d) => d > 0).length,
      unchanged: diffs.filter((d) => d === 0).length, onlyInBaseline: 0, onlyInCandidate: 0,
    });
    const score = summary['score'] as Paired;
    const mean = diffs.reduce((x, y) => x + y, 0) / 60;
    expect(score.pairs).toBe(60);
    expect(score.meanDiff).toBeCloseTo(mean, 12);
    expect(score.ci95Low).toBeLessThan(mean);
    expect(score.ci95High).toBeGreaterThan(mean);
    // 10 non-zero diffs: every sign flip is enumerated.
    expect(score.test).toBe('permutation-exact');
    const nonZero = diffs.filter((d) => d !== 0);
    let hits = 0;
    for (let mask = 0; mask < 2 ** nonZero.length; mask++) {
      const s = nonZero.reduce((acc, d, k) => acc + (mask & (1 << k) ? -d : d), 0);
      if (Math.abs(s) >= Math.abs(mean * 60) - 1e-9) hits++;
    }
    expect(score.pValue).toBeCloseTo(hits / 2 ** nonZero.length, 12);
    // A criteria evaluator reports each criterion's score as a metric under its name.
    const pick = (summary['metrics'] as Record<string, Paired>)['pick']!;
    expect(pick).toMatchObject({ pairs: 60, test: 'permutation-exact' });
    expect(pick.meanDiff).toBeCloseTo(mean, 12);
    // The same request gives the same interval (seeded by the data).
    expect((await compare('cand', 'baseline=base')).json['summary']).toEqual(summary);
    expect(response.json).toMatchObject({ evaluationJob: `accounts/${t.accountId}/evaluationJobs/cand`, baseline: `accounts/${t.accountId}/evaluationJobs/base`, totalSize: 60 });
  });

  it('lists regressions first, pages, filters by status and shows both outputs side by side', async () => {
    const first = await compare('cand', 'baseline=base&pageSize=10');
    const rows = first.json['rows'] as { status: string; diff: number; baseline: { index: number; score: number }; candidate: { index: number; score: number; metrics: Record<string, number> } }[];
    const regressions = Array.from({ length: 60 }, (_, i) => i).filter((i) => candidateScore(i) < baselineScore(i));
    expect(rows.slice(0, regressions.length).map((r) => [r.status, r.candidate.index])).toEqual(regressions.map((i) => ['regressed', i]));
    expect(rows[0]).toMatchObject({ diff: -0.25, baseline: { score: baselineScore(regressions[0]!) }, candidate: { score: candidateScore(regressions[0]!), metrics: { pick: candidateScore(regressions[0]!) } } });
    // The next page goes on where this one ended, whatever its size.
    const all = (await compare('cand', 'baseline=base&pageSize=100')).json['rows'] as typeof rows;
    const next = await compare('cand', `baseline=base&pageSize=25&pageToken=${first.json['nextPageToken'] as string}`);
    expect(next.status, next.text).toBe(200);
    expect(next.json['rows']).toEqual(all.slice(10, 35));
    const moved = await compare('cand', 'baseline=base&status=changed&orderBy=diff%20desc&view=FULL&pageSize=100');
    expect(moved.status, moved.text).toBe(200);
    const movedRows = moved.json['rows'] as { status: string; diff: number; baseline: { row: Record<string, unknown> }; candidate: { row: Record<string, unknown> } }[];
    expect(moved.json['totalSize']).toBe(movedRows.length);
    expect(movedRows.map((r) => r.status)).toEqual([...movedRows.filter((r) => r.status === 'improved'), ...movedRows.filter((r) => r.status === 'regressed')].map((r) => r.status));
    expect(movedRows[0]!.diff).toBe(0.5);
    const both = movedRows[0]!;
    expect(both.baseline.row['input_metadata']).toEqual(both.candidate.row['input_metadata']);
    expect((both.baseline.row['evaluation_result'] as { score: number }).score + 0.5).toBeCloseTo((both.candidate.row['evaluation_result'] as { score: number }).score, 12);
  });

  it('pages through every row exactly once', async () => {
    const seen: number[] = [];
    let token = '';
    do {
      const page = await compare('cand', `baseline=base&pageSize=7${token ? `&pageToken=${token}` : ''}`);
      expect(page.status, page.text).toBe(200);
      seen.push(...(page.json['rows'] as { candidate: { index: number } }[]).map((r) => r.candidate.index));
      token = page.json['nextPageToken'] as string;
    } while (token);
    expect(seen.sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    const other = await compare('cand', `baseline=base&pageSize=7&status=regressed&pageToken=${(await compare('cand', 'baseline=base&pageSize=7')).json['nextPageToken'] as string}`);
    expect(other.status).toBe(400);
    expect(other.json['message']).toContain('pageToken');
  });

  it("uses McNemar's exact test for pass/fail scores", async () => {
    const summary = (await compare('pf-cand', 'baseline=pf-base')).json['summary'] as { improved: number; regressed: number; score: Paired };
    expect(summary).toMatchObject({ improved: 9, regressed: 2 });
    expect(summary.score.test).toBe('mcnemar-exact');
    expect(summary.score.pValue).toBeCloseTo(binomialTwoSided(2, 11), 14);
    expect(summary.score.pValue).toBeCloseTo((2 * (1 + 11 + 55)) / 2048, 14);
  });

  it('joins by a key of the input rows: a filtered, reordered copy that grew', async () => {
    const response = await compare('copy-cand', 'baseline=base&joinKey=input_metadata.row_id&orderBy=index&pageSize=1000');
    expect(response.status, response.text).toBe(200);
    const summary = response.json['summary'] as { rows: number; onlyInBaseline: number; onlyInCandidate: number; score: Paired };
    expect(summary).toMatchObject({ rows: 65, onlyInBaseline: 10, onlyInCandidate: 5 });
    expect(summary.score.pairs).toBe(50);
    const diffs = Array.from({ length: 50 }, (_, k) => candidateScore(k + 10) - baselineScore(k + 10));
    expect(summary.score.meanDiff).toBeCloseTo(diffs.reduce((x, y) => x + y, 0) / 50, 12);
    const rows = response.json['rows'] as { key: string; status: string; baseline: { index: number } | null; candidate: { index: number } | null }[];
    expect(rows[0]).toMatchObject({ key: 'r59', candidate: { index: 0 }, baseline: { index: 59 } });
    expect(rows.filter((r) => r.status === 'only_candidate').map((r) => r.key)).toEqual(['r100', 'r101', 'r102', 'r103', 'r104']);
    expect(rows.filter((r) => r.status === 'only_baseline').map((r) => r.key)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
  });

  it('answers clear errors for a missing baseline, mismatched rows, bad join keys and unfinished jobs', async () => {
    const cases: [string, string, number, string][] = [
      ['cand', '', 400, 'baseline: is required'],
      ['cand', 'baseline=nope', 404, 'baseline: evaluation job'],
      ['cand', 'baseline=accounts/other/evaluationJobs/base', 400, 'another account'],
      ['copy-cand', 'baseline=base', 400, 'joinKey'],
      ['cand', 'baseline=base&joinKey=a..b', 400, 'joinKey: "a..b" is not a dotted path'],
      ['cand', 'baseline=base&joinKey=input_metadata.nope', 400, 'has no "input_metadata.nope"'],
      ['cand', 'baseline=base&status=worse', 400, 'status: "worse"'],
      ['cand', 'baseline=base&orderBy=score', 400, 'orderBy'],
      ['nope', 'baseline=base', 404, 'evaluationJob: evaluation job'],
    ];
    for (const [job, query, status, message] of cases) {
      const response = await compare(job, query);
      expect(response.status, `${job}?${query}: ${response.text}`).toBe(status);
      expect(response.json['message'], query).toContain(message);
    }
    // A job that has not finished (its rows take a second each) cannot be compared yet.
    const slow = 'import time\ndef evaluate(messages, ground_truth=None, tools=None, **kwargs):\n    time.sleep(1)\n    return 0.0\n';
    await t.call('POST', `${a()}/evaluatorsV2`, { body: { evaluatorId: 'later', evaluator: { criteria: [{ name: 'pick', codeSnippets: { language: 'python', fileContents: { 'main.py': slow } } }] } } });
    await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: 'waiting', evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/later`, inputDataset: `accounts/${t.accountId}/datasets/graded`, outputDataset: `accounts/${t.accountId}/datasets/waiting-out` } },
    });
    expect(finished((await t.call('GET', `${a()}/evaluationJobs/waiting`)).json)).toBe(false);
    const unfinished = await compare('cand', 'baseline=waiting');
    expect(unfinished.status).toBe(400);
    expect(unfinished.json['message']).toContain('compare jobs once they have finished');
    await t.call('POST', `${a()}/evaluationJobs/waiting:cancel`, { body: {} });
  });

  it('ranks a leaderboard with CIs, tests each job against the leader (paired where rows are shared), Holm-adjusted', async () => {
    const response = await t.call('GET', `${a()}/leaderboards/board:getStandings`);
    expect(response.status, response.text).toBe(200);
    type Standing = { rank: number; evaluationJob: string; score: number; ci95Low: number; ci95High: number; tiedWithLeader: boolean; versusLeader: (Paired & { pValueHolm: number }) | null };
    const standings = response.json['standings'] as Standing[];
    expect(response.json).toMatchObject({ alpha: 0.05, correction: 'holm' });
    expect(standings.map((s) => s.rank)).toEqual([1, 2, 3]);
    const scores = standings.map((s) => s.score);
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    const [leader, ...rest] = standings;
    expect(leader!.versusLeader).toBeNull();
    expect(leader!.ci95Low).toBeLessThan(leader!.score);
    const id = (s: Standing) => s.evaluationJob.split('/').pop()!;
    const leaderId = id(leader!);
    // cand (0.3875) leads base (0.375) on the same rows; copy-cand scored other rows.
    expect(leaderId).toBe('cand');
    const paired = rest.find((s) => id(s) === 'base')!;
    const direct = ((await compare('base', 'baseline=cand')).json['summary'] as { score: Paired }).score;
    expect(paired.versusLeader).toMatchObject({ test: direct.test, pairs: 60, pValue: direct.pValue, meanDiff: direct.meanDiff });
    const unpaired = rest.find((s) => id(s) === 'copy-cand')!;
    expect(unpaired.versusLeader).toMatchObject({ test: 'unpaired-normal', pairs: 0 });
    const [p1, p2] = [paired.versusLeader!.pValue, unpaired.versusLeader!.pValue];
    const holmLow = Math.min(1, 2 * Math.min(p1, p2));
    const holmHigh = Math.max(holmLow, Math.min(1, Math.max(p1, p2)));
    expect(paired.versusLeader!.pValueHolm).toBeCloseTo(p1 <= p2 ? holmLow : holmHigh, 12);
    expect(unpaired.versusLeader!.pValueHolm).toBeCloseTo(p2 < p1 ? holmLow : holmHigh, 12);
    for (const s of rest) expect(s.tiedWithLeader).toBe(s.versusLeader!.pValueHolm >= 0.05);
    // A +0.0125 mean diff over 60 rows is no evidence at all: a tie.
    expect(paired.tiedWithLeader).toBe(true);
    expect((await t.call('GET', `${a()}/leaderboards/nope:getStandings`)).status).toBe(404);
  });

  it("answers 403 to another account's key", async () => {
    const other = await t.server.services.accounts.createAccount({ accountId: 'other' });
    const response = await t.call('GET', `${a()}/evaluationJobs/cand:compare?baseline=base`, { key: other.key });
    expect(response.status).toBe(403);
    expect(response.text).not.toContain('regressed');
  });
});
