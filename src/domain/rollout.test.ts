import { describe, expect, it } from 'vitest';
import { modelWithoutProvider, passAtK, resolveRollout } from './rollout.js';

/** 1 - C(n-c, k) / C(n, k) with exact binomials (small n only). */
function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let out = 1;
  for (let i = 1; i <= k; i++) out = (out * (n - k + i)) / i;
  return out;
}

describe('passAtK', () => {
  it('equals the binomial definition for every n, c and k up to 12', () => {
    for (let n = 1; n <= 12; n++) for (let c = 0; c <= n; c++) for (let k = 1; k <= n; k++) {
      expect(passAtK(n, c, k)).toBeCloseTo(1 - binomial(n - c, k) / binomial(n, k), 12);
    }
  });
  it('is c/n at k = 1, 0 with no pass, 1 when fewer than k runs failed', () => {
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
    expect(passAtK(10, 0, 10)).toBe(0);
    expect(passAtK(10, 8, 3)).toBe(1);
    expect(() => passAtK(4, 1, 5)).toThrow(/pass@5/);
  });
});

describe('modelWithoutProvider', () => {
  it('drops a LiteLLM provider prefix of an OpenAI-compatible provider, and leaves other names whole', () => {
    expect(modelWithoutProvider('fireworks_ai/accounts/fireworks/models/kimi-k2-instruct')).toBe('accounts/fireworks/models/kimi-k2-instruct');
    expect(modelWithoutProvider('hosted_vllm/Qwen/Qwen3-8B')).toBe('Qwen/Qwen3-8B');
    expect(modelWithoutProvider('openrouter/meta-llama/llama-3-70b')).toBe('meta-llama/llama-3-70b');
    expect(modelWithoutProvider('Qwen/Qwen3-8B')).toBe('Qwen/Qwen3-8B');
    expect(modelWithoutProvider('gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(modelWithoutProvider('/models/local')).toBe('/models/local');
  });
});

describe('resolveRollout', () => {
  it('lets the job override what the evaluator declares, field by field', () => {
    const settings = resolveRollout(
      { model: 'job-model', params: { temperature: 0.1, extraBody: { a: 1 } }, numRuns: 3 },
      { baseUrl: 'http://declared:8000/v1/', model: 'declared-model', params: { temperature: 0.9, max_tokens: 10, extraBody: { b: 2 } } },
    );
    expect(settings).toEqual({
      baseUrl: 'http://declared:8000/v1', model: 'job-model', apiKeySecret: '', numRuns: 3, maxConcurrentRollouts: 96,
      requestTimeoutMs: 120_000, maxRetries: 4, passThreshold: 1, params: { temperature: 0.1, max_tokens: 10, extraBody: { a: 1, b: 2 } },
    });
  });
  it('names the missing field', () => {
    expect(() => resolveRollout({ model: 'm' })).toThrow(/evaluationJob\.rollout\.baseUrl: is required/);
    expect(() => resolveRollout({ baseUrl: 'http://x/v1' })).toThrow(/evaluationJob\.rollout\.model: is required/);
    expect(() => resolveRollout({ baseUrl: 'http://x/v1', model: 'm', params: { extraBody: { n: 2 } } })).toThrow(/extra_body\.n: not allowed: use rollout\.numRuns/);
    // An evaluator's num_runs is bounded like the job's own; the job's field overrides it.
    expect(() => resolveRollout({ baseUrl: 'http://x/v1', model: 'm' }, { numRuns: 1000 })).toThrow(/^evaluationJob\.rollout\.numRuns: 1000 runs of each row \(declared by the evaluator: num_runs\) is not an integer from 1 to 100/);
    expect(resolveRollout({ baseUrl: 'http://x/v1', model: 'm', numRuns: 3 }, { numRuns: 1000 }).numRuns).toBe(3);
  });
});
