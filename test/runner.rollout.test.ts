import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { letterEmbedding, startModelServer, type ModelServer } from './support/model-server.js';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

/** Scores the generated answer (the last message, appended by the rollout) against ground_truth. */
const EVALUATE = [
  'def evaluate(messages, ground_truth=None, **kwargs):',
  '    answer = messages[-1]',
  '    ok = answer["role"] == "assistant" and answer["content"] == ground_truth',
  '    return {"score": float(ok), "reason": "exact" if ok else "got %r" % answer["content"]}',
  '',
].join('\n');

const finished = (j: Record<string, unknown>) => ['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'].includes(j['state'] as string);

/** Row i asks "What is i + 1?"; rows divisible by 4 expect a wrong answer, so they score 0. */
const sumRow = (i: number) => ({ messages: [{ role: 'user', content: `What is ${i} + 1?` }], ground_truth: String(i % 4 === 0 ? -1 : i + 1) });

/** Every k-subset of the runs, counted: the definition of pass@k, with no formula shared with the product. */
function passAtKByEnumeration(passes: boolean[], k: number): number {
  let subsets = 0;
  let hit = 0;
  const walk = (from: number, left: number, any: boolean) => {
    if (left === 0) {
      subsets++;
      if (any) hit++;
      return;
    }
    for (let i = from; i <= passes.length - left; i++) walk(i + 1, left - 1, any || passes[i]!);
  };
  walk(0, k, false);
  return hit / subsets;
}

describe('jobs with a rollout step', () => {
  let t: TestServer;
  let model: ModelServer;
  const a = () => `/v1/accounts/${t.accountId}`;

  beforeAll(async () => {
    model = await startModelServer({ latencyMs: 5 });
    t = await startTestServer('sqlite', { workerSlots: 2, leaseSeconds: 5 });
    const evaluator = await t.call('POST', `${a()}/evaluatorsV2`, {
      body: { evaluatorId: 'exact', evaluator: { criteria: [{ name: 'exact', codeSnippets: { language: 'python', fileContents: { 'main.py': EVALUATE } } }] } },
    });
    expect(evaluator.status, evaluator.text).toBe(200);
    await waitFor(t, `${a()}/evaluators/exact`, (e) => e['state'] === 'ACTIVE');
    await t.call('POST', `${a()}/secrets`, { body: { keyName: 'MODEL_KEY', value: 'sk-test-model-key-1', name: 'model-key' } });
  });
  afterAll(async () => {
    await t?.close();
    await model?.close();
  });

  async function dataset(id: string, rows: object[]) {
    await t.call('POST', `${a()}/datasets`, { body: { dataset: {}, datasetId: id } });
    const uploaded = await t.call('POST', `${a()}/datasets/${id}:upload`, { body: multipartBody(jsonlFile(rows)) });
    expect(uploaded.status, uploaded.text).toBe(200);
  }

  function createJob(id: string, input: string, rollout: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return t.call('POST', `${a()}/evaluationJobs`, {
      body: {
        evaluationJobId: id,
        evaluationJob: {
          evaluator: `accounts/${t.accountId}/evaluators/exact`, inputDataset: `accounts/${t.accountId}/datasets/${input}`,
          outputDataset: `accounts/${t.accountId}/datasets/${id}-out`, rollout: { baseUrl: model.baseUrl, model: 'test-model', ...rollout }, ...extra,
        },
      },
    });
  }

  async function outputRows(id: string): Promise<Record<string, unknown>[]> {
    const endpoint = await t.call('GET', `${a()}/datasets/${id}-out:getDownloadEndpoint`);
    const url = Object.values(endpoint.json['filenameToSignedUrls'] as Record<string, string>)[0]!;
    return (await (await fetch(url)).text()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('sends each row to the model, appends the answer and scores it', async () => {
    const rows = Array.from({ length: 120 }, (_, i) => sumRow(i));
    (rows[3] as Record<string, unknown>)['tools'] = [{ type: 'function', function: { name: 'calc', parameters: {} } }];
    await dataset('sums', rows);
    model.reset();
    const created = await createJob('gen', 'sums', {
      apiKeySecret: 'MODEL_KEY', completionParams: { temperature: 0.2, max_tokens: 50, stop: ['\n\n'], extra_body: { top_k: 5 } },
    }, { settings: { chunkRows: 25 } });
    expect(created.status, created.text).toBe(200);
    expect(created.json['rollout']).toMatchObject({ baseUrl: model.baseUrl, model: 'test-model', numRuns: 1, maxConcurrentRollouts: 96, apiKeySecret: 'MODEL_KEY' });
    const done = await waitFor(t, `${a()}/evaluationJobs/gen`, finished);
    expect(done['state']).toBe('JOB_STATE_COMPLETED');

    const metrics = done['metrics'] as Record<string, number>;
    expect(metrics['row_count']).toBe(120);
    expect(metrics['error_count']).toBe(0);
    expect(metrics['score']).toBeCloseTo(90 / 120, 10);
    expect(metrics['rollout_error_count']).toBe(0);
    expect(metrics['pass@1']).toBeCloseTo(90 / 120, 10);
    expect(metrics['rollout_latency_p50_ms']).toBeGreaterThanOrEqual(5);
    expect(metrics['rollout_latency_p95_ms']).toBeGreaterThanOrEqual(metrics['rollout_latency_p50_ms']!);

    expect(model.requests).toHaveLength(120);
    const first = model.requests.find((r) => r.prompt === 'What is 3 + 1?')!;
    expect(first.headers['authorization']).toBe('Bearer sk-test-model-key-1');
    expect(first.body).toMatchObject({ model: 'test-model', temperature: 0.2, max_tokens: 50, stop: ['\n\n'], top_k: 5, tools: rows[3]!['tools' as keyof object] });
    expect(first.body.seed).toBeUndefined();
    expect(model.requests.find((r) => r.prompt === 'What is 4 + 1?')!.body.tools).toBeUndefined();
    // The key never lands in the job.
    expect(JSON.stringify((await t.call('GET', `${a()}/evaluationJobs/gen`)).json)).not.toContain('sk-test-model-key-1');

    const out = await outputRows('gen');
    expect(out).toHaveLength(120);
    const promptTokens = model.requests.reduce((n, r) => n + r.body.messages.reduce((m, msg) => m + String(msg.content).split(/\s+/).filter(Boolean).length, 0), 0);
    expect(metrics['rollout_prompt_tokens']).toBe(promptTokens);
    expect(metrics['rollout_completion_tokens']).toBe(120);
    out.forEach((row, i) => {
      const messages = row['messages'] as { role: string; content: string }[];
      expect(messages).toEqual([{ role: 'user', content: `What is ${i} + 1?` }, { role: 'assistant', content: String(i + 1) }]);
      expect(row['rollout']).toMatchObject({ run: 0, model: 'test-model', message: { role: 'assistant', content: String(i + 1) }, finish_reason: 'stop', usage: { prompt_tokens: 5, completion_tokens: 1 }, error: null, attempts: 1 });
      expect((row['rollout'] as { latency_ms: number }).latency_ms).toBeGreaterThanOrEqual(5);
      expect((row['evaluation_result'] as { score: number }).score).toBe(i % 4 === 0 ? 0 : 1);
    });
  });

  it('runs numRuns independent rollouts per row with a seed per run, and pass@k matches a direct count', async () => {
    const k = 4;
    await dataset('pk', Array.from({ length: 30 }, (_, i) => ({ messages: [{ role: 'user', content: `What is ${i} + 2?` }], ground_truth: String(i + 2) })));
    // The answer is right for some seeds only: (seed + i) % 3 !== 0, or always for i % 5 === 0, never for i % 7 === 0.
    const rightFor = (i: number, seed: number) => i % 7 !== 0 && (i % 5 === 0 || (seed + i) % 3 !== 0);
    model.options.answer = (prompt, request) => {
      const i = Number(/What is (\d+)/.exec(prompt)![1]);
      return rightFor(i, request.seed!) ? String(i + 2) : 'no idea';
    };
    model.reset();
    try {
      const created = await createJob('pk', 'pk', { numRuns: k, completionParams: { seed: 100 }, passThreshold: 0.5 }, { settings: { chunkRows: 7 } });
      expect(created.status, created.text).toBe(200);
      const done = await waitFor(t, `${a()}/evaluationJobs/pk`, finished);
      expect(done['state']).toBe('JOB_STATE_COMPLETED');
      expect(done['progress']).toMatchObject({ rowsTotal: 120, rowsDone: 120 });
      const metrics = done['metrics'] as Record<string, number>;
      expect(metrics['row_count']).toBe(120);
      expect(metrics['num_runs']).toBe(k);

      for (let i = 0; i < 30; i++) {
        const seeds = model.requests.filter((r) => r.prompt === `What is ${i} + 2?`).map((r) => r.body.seed).sort();
        expect(seeds).toEqual([100, 101, 102, 103]);
      }
      const out = await outputRows('pk');
      expect(out).toHaveLength(120);
      const passes: boolean[][] = Array.from({ length: 30 }, () => []);
      out.forEach((row, idx) => {
        const rollout = row['rollout'] as { run: number };
        expect(rollout.run).toBe(idx % k);
        const i = Math.floor(idx / k);
        expect((row['messages'] as { content: string }[])[0]!.content).toBe(`What is ${i} + 2?`);
        const score = (row['evaluation_result'] as { score: number }).score;
        expect(score).toBe(rightFor(i, 100 + rollout.run) ? 1 : 0);
        passes[i]!.push(score >= 0.5);
      });
      for (let j = 1; j <= k; j++) {
        const direct = passes.reduce((sum, runs) => sum + passAtKByEnumeration(runs, j), 0) / passes.length;
        expect(metrics[`pass@${j}`]).toBeCloseTo(direct, 12);
      }
      const runMeans = Array.from({ length: k }, (_, run) => passes.filter((p) => p[run]).length / 30);
      runMeans.forEach((mean, run) => expect(metrics[`score_run_${run}`]).toBeCloseTo(mean, 12));
      const avg = runMeans.reduce((x, y) => x + y, 0) / k;
      expect(metrics['score_run_std']).toBeCloseTo(Math.sqrt(runMeans.reduce((s, m) => s + (m - avg) ** 2, 0) / (k - 1)), 12);
      expect(metrics['pass@4']).toBeGreaterThan(metrics['pass@1']!);
    } finally {
      delete model.options.answer;
    }
  });

  it('compares two jobs of k runs run by run (by index and by joinKey), and refuses to pair jobs of different numRuns', async () => {
    await dataset('cmpk', Array.from({ length: 20 }, (_, i) => ({ messages: [{ role: 'user', content: `What is ${i} + 2?` }], ground_truth: String(i + 2), input_metadata: { row_id: `r${i}` } })));
    const rightFor = (i: number, seed: number) => (seed * 7 + i) % 3 !== 0;
    model.options.answer = (prompt, request) => {
      const i = Number(/What is (\d+)/.exec(prompt)![1]);
      return rightFor(i, request.seed!) ? String(i + 2) : 'no idea';
    };
    try {
      for (const [id, seed, numRuns] of [['cmp-base', 100, 3], ['cmp-cand', 200, 3], ['cmp-two', 100, 2]] as const) {
        const created = await createJob(id, 'cmpk', { numRuns, completionParams: { seed } }, { settings: { chunkRows: 9 } });
        expect(created.status, created.text).toBe(200);
        expect((await waitFor(t, `${a()}/evaluationJobs/${id}`, finished))['state']).toBe('JOB_STATE_COMPLETED');
      }
      let improved = 0;
      let regressed = 0;
      for (let i = 0; i < 20; i++) {
        for (let run = 0; run < 3; run++) {
          const [base, cand] = [rightFor(i, 100 + run), rightFor(i, 200 + run)];
          if (cand && !base) improved++;
          if (base && !cand) regressed++;
        }
      }
      for (const query of ['baseline=cmp-base', 'baseline=cmp-base&joinKey=input_metadata.row_id']) {
        const compared = await t.call('GET', `${a()}/evaluationJobs/cmp-cand:compare?${query}&pageSize=60`);
        expect(compared.status, compared.text).toBe(200);
        expect(compared.json['summary']).toMatchObject({ rows: 60, improved, regressed, onlyInBaseline: 0, onlyInCandidate: 0 });
        for (const item of compared.json['rows'] as { baseline: { index: number }; candidate: { index: number }; key?: string }[]) {
          expect(item.candidate.index).toBe(item.baseline.index);
          if (item.key !== undefined) expect(item.key).toBe(`r${Math.floor(item.candidate.index / 3)} (run ${item.candidate.index % 3})`);
        }
      }
      const refused = await t.call('GET', `${a()}/evaluationJobs/cmp-two:compare?baseline=cmp-base`);
      expect(refused.status).toBe(400);
      expect(refused.json['message']).toMatch(/^baseline: .*"cmp-two" made 2 run\(s\).*"cmp-base" made 3.*numRuns/);
    } finally {
      delete model.options.answer;
    }
  });

  it('embeds each row\'s texts in one request with api: embeddings, keeping the cosine of each pair', async () => {
    const reader = await t.call('POST', `${a()}/evaluatorsV2`, {
      body: { evaluatorId: 'cosines', evaluator: { criteria: [{ name: 'c', codeSnippets: { language: 'python', fileContents: { 'main.py': 'def evaluate(messages=None, ground_truth=None, **row):\n    return {"score": row["rollout"]["cosine"][0], "reason": repr(row["rollout"]["cosine"])}\n' } } }] } },
    });
    expect(reader.status, reader.text).toBe(200);
    await waitFor(t, `${a()}/evaluators/cosines`, (e) => e['state'] === 'ACTIVE');
    const texts = [['the sky is blue', 'blue sky'], ['abc', 'xyz', 'abc abc']];
    await dataset('texts', [...texts.map((input) => ({ embedding_input: input, embedding_pairs: [[0, 1], [1, input.length - 1]] })), { embedding_input: 'not a list' }]);
    model.reset();
    const created = await t.call('POST', `${a()}/evaluationJobs`, {
      body: { evaluationJobId: 'emb', evaluationJob: { evaluator: `accounts/${t.accountId}/evaluators/cosines`, inputDataset: `accounts/${t.accountId}/datasets/texts`, outputDataset: `accounts/${t.accountId}/datasets/emb-out`, rollout: { api: 'embeddings', baseUrl: model.baseUrl, model: 'embedder' } } },
    });
    expect(created.status, created.text).toBe(200);
    expect(created.json['rollout']).toMatchObject({ api: 'embeddings', numRuns: 1 });
    expect((await waitFor(t, `${a()}/evaluationJobs/emb`, finished))['state']).toBe('JOB_STATE_COMPLETED');
    expect(model.requests.map((r) => [r.path, r.body['input']])).toEqual(expect.arrayContaining(texts.map((input) => ['/v1/embeddings', input])));
    expect(model.requests).toHaveLength(2);
    const cos = (x: string, y: string) => {
      const [u, v] = [letterEmbedding(x), letterEmbedding(y)];
      const dot = u.reduce((sum, ui, i) => sum + ui * v[i]!, 0);
      return dot / Math.sqrt(u.reduce((s2, ui) => s2 + ui * ui, 0) * v.reduce((s2, vi) => s2 + vi * vi, 0));
    };
    const out = await outputRows('emb');
    texts.forEach((input, i) => {
      const rollout = out[i]!['rollout'] as { cosine: number[]; embeddings?: unknown; usage: { prompt_tokens: number } };
      expect(rollout.cosine[0]).toBeCloseTo(cos(input[0]!, input[1]!), 12);
      expect(rollout.cosine[1]).toBeCloseTo(cos(input[1]!, input[input.length - 1]!), 12);
      expect(rollout).not.toHaveProperty('embeddings');
      expect(rollout.usage.prompt_tokens).toBeGreaterThan(0);
      expect((out[i]!['evaluation_result'] as { score: number }).score).toBeCloseTo(rollout.cosine[0]!, 12);
    });
    expect((out[2]!['evaluation_result'] as { reason: string }).reason).toMatch(/no "embedding_input" list of strings/);

    const runs = await createJob('emb-two', 'texts', { api: 'embeddings', numRuns: 2 });
    expect(runs.status).toBe(400);
    expect(runs.json['message']).toMatch(/^evaluationJob\.rollout\.numRuns: embeddings are one call per row/);
  });

  it('retries 429 after Retry-After and 5xx and malformed bodies; a row that keeps failing is an errored row', async () => {
    await dataset('flaky', Array.from({ length: 12 }, (_, i) => sumRow(i + 1)));
    model.reset();
    model.options.behaviour = (prompt, attempt) => {
      const i = Number(/What is (\d+)/.exec(prompt)![1]);
      if (i === 1 && attempt < 2) return { kind: 'status', status: 429, retryAfterSeconds: 1 };
      if (i === 2 && attempt < 1) return { kind: 'status', status: 503 };
      if (i === 3 && attempt < 1) return { kind: 'malformed' };
      if (i === 4) return { kind: 'status', status: 500 };
      if (i === 5) return { kind: 'status', status: 400 };
      // An answer Tally could not store and serve back: the row's error at once, never retried.
      if (i === 6) return { kind: 'body', text: `{"choices": [{"message": {"role": "assistant", "content": "7", "x": ${'['.repeat(5000)}${']'.repeat(5000)}}}]}` };
      return { kind: 'answer' };
    };
    try {
      const created = await createJob('flaky', 'flaky', { maxRetries: 2 }, { settings: { maxErrorRate: 0.9 } });
      expect(created.status, created.text).toBe(200);
      const done = await waitFor(t, `${a()}/evaluationJobs/flaky`, finished);
      expect(done['state']).toBe('JOB_STATE_COMPLETED');
      const times = (i: number) => model.requests.filter((r) => r.prompt === `What is ${i} + 1?`).map((r) => r.at);
      const limited = times(1);
      expect(limited).toHaveLength(3);
      // Retry-After: 1 is honoured, twice (the backoff alone would be well under a second).
      expect(limited[1]! - limited[0]!).toBeGreaterThanOrEqual(950);
      expect(limited[2]! - limited[1]!).toBeGreaterThanOrEqual(950);
      expect(times(2)).toHaveLength(2);
      expect(times(3)).toHaveLength(2);
      expect(times(4)).toHaveLength(3);
      expect(times(5)).toHaveLength(1);
      expect(times(6)).toHaveLength(1);

      const out = await outputRows('flaky');
      for (const i of [1, 2, 3]) expect((out[i - 1]!['rollout'] as { attempts: number }).attempts).toBe(i === 1 ? 3 : 2);
      expect(out.slice(0, 3).map((r) => (r['evaluation_result'] as { score: number }).score)).toEqual([1, 1, 1]);
      const failed500 = out[3]!;
      expect(failed500['messages']).toEqual([{ role: 'user', content: 'What is 4 + 1?' }]);
      expect((failed500['rollout'] as { error: string }).error).toMatch(/HTTP 500 .*scripted 500 \(after 3 attempts\)/);
      expect(failed500['evaluation_result']).toMatchObject({ score: 0, is_score_valid: false });
      expect((failed500['evaluation_result'] as { reason: string }).reason).toMatch(/^rollout: HTTP 500/);
      expect((out[4]!['rollout'] as { error: string }).error).toMatch(/HTTP 400 .*scripted 400$/);
      expect((out[5]!['rollout'] as { error: string }).error).toMatch(/^the endpoint's answer cannot be kept: .*nest/);
      const metrics = done['metrics'] as Record<string, number>;
      expect(metrics['error_count']).toBe(3);
      expect(metrics['rollout_error_count']).toBe(3);
      expect(JSON.parse(done['outputStats'] as string).errorsByKind).toEqual({ rollout: 3 });
    } finally {
      delete model.options.behaviour;
    }
  });

  it('times out a hanging endpoint per request', async () => {
    model.reset();
    await dataset('hangs', Array.from({ length: 6 }, (_, i) => sumRow(i + 1)));
    model.options.behaviour = (prompt) => (prompt.startsWith('What is 2 ') || prompt.startsWith('What is 5 ') ? { kind: 'hang' } : { kind: 'answer' });
    try {
      const started = Date.now();
      const created = await createJob('hangs', 'hangs', { requestTimeoutSeconds: 1, maxRetries: 1 }, { settings: { maxErrorRate: 0.9 } });
      expect(created.status, created.text).toBe(200);
      const done = await waitFor(t, `${a()}/evaluationJobs/hangs`, finished);
      expect(done['state']).toBe('JOB_STATE_COMPLETED');
      expect(Date.now() - started).toBeLessThan(30_000);
      const out = await outputRows('hangs');
      expect((out[1]!['rollout'] as { error: string }).error).toMatch(/no answer from .* within the request timeout of 1 s \(after 2 attempts\)/);
      expect((out[4]!['rollout'] as { error: string }).error).toMatch(/request timeout of 1 s/);
      expect((done['metrics'] as Record<string, number>)['rollout_error_count']).toBe(2);
      expect(await waitUntil(() => model.inFlight === 0)).toBe(true);
    } finally {
      delete model.options.behaviour;
    }
  });

  it('cancel aborts the requests in flight and sends no more', async () => {
    await dataset('slow', Array.from({ length: 400 }, (_, i) => sumRow(i)));
    model.options.latencyMs = 1500;
    model.reset();
    try {
      const created = await createJob('slow', 'slow', { maxConcurrentRollouts: 8 }, { settings: { chunkRows: 100 } });
      expect(created.status, created.text).toBe(200);
      expect(await waitUntil(() => model.requests.length >= 8)).toBe(true);
      const cancelled = await t.call('POST', `${a()}/evaluationJobs/slow:cancel`);
      expect(cancelled.status, cancelled.text).toBe(200);
      const done = await waitFor(t, `${a()}/evaluationJobs/slow`, finished);
      expect(done['state']).toBe('JOB_STATE_CANCELLED');
      expect(await waitUntil(() => model.inFlight === 0, 5_000)).toBe(true);
      const sent = model.requests.length;
      // 8 at once across the worker's slots, and no chunk leased before the cancel starts after it.
      expect(sent).toBe(8);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(model.requests.length).toBe(sent);
      expect(model.maxInFlight).toBeLessThanOrEqual(8);
    } finally {
      model.options.latencyMs = 5;
    }
  });

  it('counts rollouts in the progress before their rows are scored', async () => {
    await dataset('counted', Array.from({ length: 40 }, (_, i) => sumRow(i)));
    model.options.latencyMs = 300;
    try {
      const created = await createJob('counted', 'counted', { maxConcurrentRollouts: 4 }, { settings: { chunkRows: 40 } });
      expect(created.status, created.text).toBe(200);
      const part = await waitFor(t, `${a()}/evaluationJobs/counted`, (j) => ((j['progress'] as { rolloutsDone?: number }).rolloutsDone ?? 0) >= 4, 60_000);
      // One chunk of 40: no row is written until all its rollouts are back.
      expect(part['progress']).toMatchObject({ rowsDone: 0, rowsTotal: 40 });
      const done = await waitFor(t, `${a()}/evaluationJobs/counted`, finished);
      expect(done['progress']).toMatchObject({ rolloutsDone: 40, rowsDone: 40 });
      // Two runs a row: the chunk's 10 input rows are 20 output rows in flight, as rowsTotal counts them.
      await dataset('counted-runs', Array.from({ length: 10 }, (_, i) => sumRow(i)));
      expect((await createJob('counted-runs', 'counted-runs', { numRuns: 2, maxConcurrentRollouts: 2 }, { settings: { chunkRows: 10 } })).status).toBe(200);
      const running = await waitFor(t, `${a()}/evaluationJobs/counted-runs`, (j) => ((j['progress'] as { rolloutsDone?: number }).rolloutsDone ?? 0) >= 2, 60_000);
      expect(running['progress']).toMatchObject({ rowsTotal: 20, rowsDone: 0, rowsInFlight: 20 });
      expect((await waitFor(t, `${a()}/evaluationJobs/counted-runs`, finished))['state']).toBe('JOB_STATE_COMPLETED');
    } finally {
      model.options.latencyMs = 5;
    }
  });

  it('refuses a bad rollout at create, naming the field', async () => {
    await dataset('tiny', [sumRow(1)]);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ model: '' }, /evaluationJob\.rollout\.model: is required/],
      [{ baseUrl: 'ftp://x/v1' }, /evaluationJob\.rollout\.baseUrl: "ftp:\/\/x\/v1" is not an http/],
      [{ baseUrl: 'http://user:pw@127.0.0.1/v1' }, /evaluationJob\.rollout\.baseUrl: .* without credentials/],
      [{ apiKeySecret: 'NO_SUCH_KEY' }, /evaluationJob\.rollout\.apiKeySecret: the account has no secret with keyName "NO_SUCH_KEY"/],
      [{ completionParams: { extra_body: { stream: true } } }, /evaluationJob\.rollout\.completionParams\.extra_body\.stream: not allowed/],
      [{ numRuns: 0 }, /evaluationJob\.rollout\.numRuns: /],
      [{ completionParams: { temprature: 1 } }, /evaluationJob\.rollout\.completionParams\.temprature: unknown field/],
    ];
    for (const [rollout, message] of cases) {
      const created = await createJob(`bad${cases.findIndex((c) => c[0] === rollout)}`, 'tiny', rollout);
      expect(created.status, created.text).toBe(400);
      expect(created.json['message']).toMatch(message);
    }
    expect((await t.call('GET', `${a()}/datasets/bad0-out`)).status).toBe(404);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}
