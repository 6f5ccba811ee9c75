import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from './support/server.js';

const EVALUATE = [
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    print("checking", messages[-1]["content"])',
  '    if ground_truth == "raise":',
  '        raise RuntimeError("no ground truth")',
  '    ok = float(messages[-1]["content"] == ground_truth)',
  '    return {"score": ok, "reason": "match" if ok else "no match", "metrics": {"exact": {"score": ok, "reason": "", "is_score_valid": True}}}',
  '',
].join('\n');

const sample = (answer: string, truth: string) => JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: answer }], ground_truth: truth });

describe('previewing evaluators', () => {
  let t: TestServer;
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    t = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await t.close();
  });

  it('builds inline code, scores the samples and returns results, stdout and runtime (legacy preview)', async () => {
    const response = await t.call('POST', `${a()}/evaluators:previewEvaluator`, {
      body: {
        evaluator: { criteria: [{ name: 'exact', type: 'CODE_SNIPPETS', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }], multiMetrics: true, rollupSettings: { skipRollup: true } },
        sampleData: [sample('4', '4'), sample('5', '4'), sample('x', 'raise')],
        maxSamples: 5,
      },
    });
    expect(response.status, response.text).toBe(200);
    expect(response.json).toMatchObject({ totalSamples: 3, totalRuntimeMs: expect.stringMatching(/^\d+$/) });
    const results = response.json['results'] as { success: boolean; score: number; reason: string; perMetricEvals: Record<string, { score: number }> }[];
    expect(results[0]).toMatchObject({ success: true, score: 1, perMetricEvals: { exact: { score: 1 } } });
    expect(results[1]).toMatchObject({ success: true, score: 0 });
    expect(results[2]).toMatchObject({ success: false, score: 0, reason: expect.stringContaining('no ground truth') });
    expect((response.json['stdout'] as string[]).join('\n')).toContain('checking 4');
  });

  it('refuses bad samples and failing builds naming the problem', async () => {
    const notJson = await t.call('POST', `${a()}/evaluators:previewEvaluator`, {
      body: { evaluator: { criteria: [{ codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] }, sampleData: ['{nope'] },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.json['message']).toContain('sampleData[0]');
    const broken = await t.call('POST', `${a()}/evaluators:previewEvaluator`, {
      body: { evaluator: { criteria: [{ codeSnippets: { fileContents: { 'main.py': 'def evaluate(:\n' } } }] }, sampleData: [sample('1', '1')] },
    });
    expect(broken.status).toBe(400);
    expect(broken.json['message']).toMatch(/SyntaxError in main.py, line 1/);
  });

  it('previews an existing ACTIVE evaluator', async () => {
    await t.call('POST', `${a()}/evaluatorsV2`, { body: { evaluatorId: 'live', evaluator: { criteria: [{ name: 'exact', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } } });
    await waitFor(t, `${a()}/evaluators/live`, (e) => e['state'] === 'ACTIVE');
    const response = await t.call('POST', `${a()}/evaluators/live:preview`, { body: { sampleData: [sample('7', '7')] } });
    expect(response.status, response.text).toBe(200);
    expect(response.json).toMatchObject({ totalSamples: 1, results: [{ success: true, score: 1 }] });
    const missing = await t.call('POST', `${a()}/evaluators/ghost:preview`, { body: { sampleData: [sample('7', '7')] } });
    expect(missing.status).toBe(404);
  });
});
