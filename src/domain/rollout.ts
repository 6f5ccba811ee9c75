/**
 * Rollouts: a job that calls a model before it scores (docs/api.md, "rollout").
 *
 * - rollout: one chat-completions call for one input row and one run; its assistant message is
 *   appended to the row's messages, and the row is then scored by the evaluator.
 * - run: one of the job's `numRuns` independent rollouts of every input row. Output row
 *   `idx * numRuns + run` holds run `run` of input row `idx`, so a chunk's outputs stay
 *   consecutive and a row's runs sit side by side.
 * - pass@k: the chance that at least one of k runs of a row passes (its score reaches the pass
 *   threshold), estimated without bias from all n runs (Chen et al. 2021).
 */

import { invalidArgument } from './errors.js';

/** Completion parameters sent with every request (OpenAI names). */
export interface CompletionParams {
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stop?: string | string[];
  /** Run r is sent seed + r: runs are independent, each reproducible. */
  seed?: number;
  /** Passed through into the request body as is (keys the fields above do not name). */
  extraBody?: Record<string, unknown>;
}

/**
 * What a rollout calls: a chat completion (the default), or embeddings of the row's
 * `embedding_input` texts (the OpenAI Evals face's cosine grader; output under `rollout.embeddings`).
 */
export type RolloutApi = 'chat.completions' | 'embeddings';
export const ROLLOUT_APIS: readonly RolloutApi[] = ['chat.completions', 'embeddings'];

export interface RolloutSettings {
  /** The endpoint's base URL; requests go to `<baseUrl>/chat/completions` (or `/embeddings`). */
  baseUrl: string;
  /** Absent: chat.completions. */
  api?: 'embeddings';
  model: string;
  /** The key name of an account secret sent as the bearer token; '' for none. */
  apiKeySecret: string;
  params: CompletionParams;
  /** Independent rollouts of every input row. @default 1 */
  numRuns: number;
  /** Requests of this job in flight at once, per worker. @default 96 */
  maxConcurrentRollouts: number;
  /** One request's limit, including reading its body. @default 120000 */
  requestTimeoutMs: number;
  /** Retries of a request that failed in a way that may pass (429, 5xx, timeout, network). @default 4 */
  maxRetries: number;
  /** A row passes when its valid score is at least this. @default 1 */
  passThreshold: number;
}

/** Runs of each row a job may ask for (the wire's bound on `numRuns`, and on a declared `num_runs`). */
export const MAX_RUNS = 100;

export const DEFAULT_ROLLOUT = { apiKeySecret: '', params: {}, numRuns: 1, maxConcurrentRollouts: 96, requestTimeoutMs: 120_000, maxRetries: 4, passThreshold: 1 } as const;

/** What a rollout did, kept with the row's result for the job's metrics. */
export interface RolloutStat {
  run: number;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  /** The rollout failed after its retries (the row was not scored). */
  failed: boolean;
}

/** The output row index of run `run` of input row `inputIdx`. */
export const outputIndexOf = (inputIdx: number, run: number, numRuns: number): number => inputIdx * numRuns + run;

/** The cosine of the angle between two vectors of one length (0 when either is all zeros). */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa === 0 || bb === 0 ? 0 : dot / Math.sqrt(aa * bb);
}

/**
 * LiteLLM's provider prefixes of OpenAI-compatible providers (`fireworks_ai/accounts/...`,
 * `hosted_vllm/Qwen/Qwen3-8B`): eval-protocol routes by them, the endpoint itself knows the
 * model by the rest.
 */
const OPENAI_COMPATIBLE_PROVIDERS = new Set([
  'openai', 'hosted_vllm', 'vllm', 'fireworks_ai', 'together_ai', 'ollama', 'ollama_chat', 'groq', 'deepinfra', 'openrouter',
  'lm_studio', 'llamafile', 'xai', 'deepseek', 'mistral', 'perplexity', 'nvidia_nim', 'cerebras', 'sambanova', 'litellm_proxy',
]);

/** A model name as eval-protocol declares it (LiteLLM's `provider/model`), as the endpoint knows it. */
export function modelWithoutProvider(model: string): string {
  const slash = model.indexOf('/');
  return slash > 0 && OPENAI_COMPATIBLE_PROVIDERS.has(model.slice(0, slash)) ? model.slice(slash + 1) : model;
}

/** The seed of a run: the given one plus the run's number, or none. */
export const seedOfRun = (seed: number | undefined, run: number): number | undefined => (seed === undefined ? undefined : seed + run);

/**
 * The unbiased pass@k of one row with `n` runs of which `c` passed: 1 - C(n-c, k) / C(n, k),
 * computed as a product so large n does not overflow (Chen et al. 2021, figure 3).
 */
export function passAtK(n: number, c: number, k: number): number {
  if (k < 1 || k > n) throw new RangeError(`pass@${k}: needs 1 <= k <= n (n = ${n})`);
  if (n - c < k) return 1;
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

/** What a job's create request or an evaluator's declaration says about the rollout: any part. */
export interface RolloutInput {
  api?: RolloutApi;
  baseUrl?: string;
  model?: string;
  apiKeySecret?: string;
  params?: CompletionParams;
  numRuns?: number;
  maxConcurrentRollouts?: number;
  requestTimeoutMs?: number;
  maxRetries?: number;
  passThreshold?: number;
}

/** Keys of `extra_body` the request itself sets, or that would change what comes back. */
const RESERVED_BODY_KEYS: Record<string, string> = {
  model: 'set rollout.model instead',
  messages: 'the messages are the row\'s',
  n: 'use rollout.numRuns: each run is its own request',
  stream: 'streamed answers are not supported',
};

/**
 * The job's rollout from what it asked for over what the evaluator declares (eval-protocol
 * completion_params): the job's fields win, field by field; completion params merge the same way.
 */
export function resolveRollout(job: RolloutInput, declared: RolloutInput = {}): RolloutSettings {
  const field = (name: string) => `evaluationJob.rollout.${name}`;
  const baseUrl = job.baseUrl || declared.baseUrl || '';
  const model = job.model || declared.model || '';
  if (!baseUrl) throw invalidArgument(`${field('baseUrl')}: is required (the OpenAI-compatible endpoint, e.g. http://host:8000/v1)`);
  if (!isHttpUrl(baseUrl)) throw invalidArgument(`${field('baseUrl')}: "${baseUrl}" is not an http:// or https:// URL without credentials`);
  if (!model) throw invalidArgument(`${field('model')}: is required (the model name the endpoint serves)`);
  const params = { ...declared.params, ...job.params, extraBody: { ...declared.params?.extraBody, ...job.params?.extraBody } };
  for (const key of Object.keys(params.extraBody)) {
    const why = RESERVED_BODY_KEYS[key];
    if (why) throw invalidArgument(`${field('completionParams.extra_body')}.${key}: not allowed: ${why}`);
  }
  if (Object.keys(params.extraBody).length === 0) delete (params as CompletionParams).extraBody;
  const pick = <K extends keyof typeof DEFAULT_ROLLOUT>(key: K) => (job as Record<string, unknown>)[key] ?? (declared as Record<string, unknown>)[key] ?? DEFAULT_ROLLOUT[key];
  const settings: RolloutSettings = {
    baseUrl: baseUrl.replace(/\/+$/, ''), model, params,
    apiKeySecret: pick('apiKeySecret') as string,
    numRuns: pick('numRuns') as number,
    maxConcurrentRollouts: pick('maxConcurrentRollouts') as number,
    requestTimeoutMs: pick('requestTimeoutMs') as number,
    maxRetries: pick('maxRetries') as number,
    passThreshold: pick('passThreshold') as number,
  };
  if (!Number.isFinite(settings.passThreshold)) throw invalidArgument(`${field('passThreshold')}: expected a finite number`);
  // The job's own field is checked on the wire; an evaluator's declared num_runs arrives here unchecked.
  if (!Number.isInteger(settings.numRuns) || settings.numRuns < 1 || settings.numRuns > MAX_RUNS) {
    throw invalidArgument(`${field('numRuns')}: ${settings.numRuns} runs of each row (declared by the evaluator: num_runs) is not an integer from 1 to ${MAX_RUNS}; set numRuns on the job`);
  }
  if ((job.api ?? declared.api) === 'embeddings') {
    if (settings.numRuns !== 1) throw invalidArgument(`${field('numRuns')}: embeddings are one call per row (numRuns 1), got ${settings.numRuns}`);
    settings.api = 'embeddings';
  }
  return settings;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
  } catch {
    return false;
  }
}
