/**
 * The rollout stage of a chunk, between prepare and score: every input row is sent to the job's
 * model endpoint `numRuns` times, and each answer becomes a row to score (the row with the
 * assistant message appended to its messages and what the call did under `rollout`). A job whose
 * rollout calls `embeddings` sends each row's `embedding_input` texts in one request instead.
 */
import { setMaxListeners } from 'node:events';
import { cosineSimilarity, outputIndexOf, seedOfRun, type RolloutSettings, type RolloutStat } from '../../domain/rollout.js';
import type { SecretEnv } from '../../services/secrets.js';
import type { PreparedChunk } from '../chunk-runner.js';
import { complete, embed, type CallOutcome, type CompletionOutcome, type EmbeddingsOutcome } from './client.js';
import { RateLimiter, Semaphore } from './limits.js';

/** One run of one input row, ready to score; `error` when its rollout failed after its retries. */
export interface RolledRow {
  idx: number;
  data: string;
  stat: RolloutStat;
  error?: string;
}

export interface RolloutStage {
  /** The chunk's rows rolled out, in output order; 'stopped' when the chunk or its job was stopped. */
  rollout(chunk: PreparedChunk, signal: AbortSignal): Promise<RolledRow[] | 'stopped'>;
}

export interface RolloutStageOptions {
  secretEnv: SecretEnv;
  /** Requests per second by endpoint origin (config `rolloutRateLimits`). */
  rateLimits: ReadonlyMap<string, number>;
  /** Adds finished rollouts to a job's progress; called about once a second per job, and at each chunk's end. */
  recordProgress?: (accountId: string, jobId: string, count: number) => Promise<void>;
}

/** How often finished rollouts are counted into the jobs' progress. */
const PROGRESS_MS = 1000;

/** Counts finished rollouts per job and hands them on in batches, so progress costs a write a second, not one per rollout. */
function createProgressCounter(record: RolloutStageOptions['recordProgress']) {
  const pending = new Map<string, { accountId: string; jobId: string; count: number }>();
  let timer: NodeJS.Timeout | undefined;
  const flush = (key?: string) => {
    for (const [k, entry] of pending) {
      if (key !== undefined && k !== key) continue;
      pending.delete(k);
      // Progress is advisory: a failed write only delays the figure.
      if (entry.count > 0) void record?.(entry.accountId, entry.jobId, entry.count).catch(() => {});
    }
    if (pending.size === 0 && timer) timer = void clearInterval(timer);
  };
  return {
    count(accountId: string, jobId: string, key: string) {
      if (!record) return;
      const entry = pending.get(key) ?? { accountId, jobId, count: 0 };
      entry.count++;
      pending.set(key, entry);
      timer ??= setInterval(() => flush(), PROGRESS_MS).unref();
    },
    flush,
  };
}

/**
 * One per worker: the rollouts of a job share its `maxConcurrentRollouts` across the worker's
 * slots, and the requests to an endpoint share its operator rate limit.
 */
export function createRolloutStage({ secretEnv, rateLimits, recordProgress }: RolloutStageOptions): RolloutStage {
  const progress = createProgressCounter(recordProgress);
  /**
   * A chunk's signal aborts only when its job stopped running (cancelled, deleted, failed) or the
   * worker stops: either way every chunk of the job here stops, so the first abort stops them all
   * (otherwise a chunk still waiting for a request slot would take the slots the aborted one freed
   * and send its requests until its own lease watch noticed).
   */
  const perJob = new Map<string, { semaphore: Semaphore; users: number; stop: AbortController }>();
  const perOrigin = new Map<string, RateLimiter>();

  const limiterOf = (baseUrl: string): RateLimiter | undefined => {
    const origin = new URL(baseUrl).origin;
    const rate = rateLimits.get(origin);
    if (rate === undefined) return undefined;
    let limiter = perOrigin.get(origin);
    if (!limiter) perOrigin.set(origin, (limiter = new RateLimiter(rate)));
    return limiter;
  };

  const shareOf = (key: string, limit: number, signal: AbortSignal) => {
    let entry = perJob.get(key);
    if (!entry) {
      entry = { semaphore: new Semaphore(limit), users: 0, stop: new AbortController() };
      setMaxListeners(0, entry.stop.signal);
      perJob.set(key, entry);
    }
    const { stop } = entry;
    entry.users++;
    const { semaphore } = entry;
    const stopAll = () => {
      stop.abort(signal.reason);
      semaphore.close(signal.reason);
    };
    signal.addEventListener('abort', stopAll, { once: true });
    if (signal.aborted) stopAll();
    return {
      semaphore,
      // Every request and every request waiting for a slot listens to it: thousands, by design.
      signal: stop.signal,
      done: () => {
        signal.removeEventListener('abort', stopAll);
        if (--entry.users === 0 && perJob.get(key) === entry) perJob.delete(key);
      },
    };
  };

  return {
    async rollout(chunk, chunkSignal) {
      const settings = chunk.job.settings.rollout!;
      const apiKey = settings.apiKeySecret ? (await secretEnv(chunk.job.accountId))[settings.apiKeySecret] : '';
      const key = `${chunk.job.accountId}/${chunk.job.id}`;
      const { semaphore, signal, done } = shareOf(key, settings.maxConcurrentRollouts, chunkSignal);
      const policy = { timeoutMs: settings.requestTimeoutMs, maxRetries: settings.maxRetries, rateLimiter: limiterOf(settings.baseUrl) };
      const send = async <T>(request: (apiKey: string) => Promise<CallOutcome<T>>): Promise<CallOutcome<T>> => {
        if (apiKey === undefined) return { ok: false, error: `the account has no secret "${settings.apiKeySecret}" (rollout.apiKeySecret)`, attempts: 0, latencyMs: 0 };
        await semaphore.acquire();
        try {
          const outcome = await request(apiKey);
          progress.count(chunk.job.accountId, chunk.job.id, key);
          return outcome;
        } finally {
          semaphore.release();
        }
      };
      const call = (body: Record<string, unknown>) => send((apiKey) => complete({ url: completionsUrl(settings.baseUrl), apiKey, body }, policy, signal));
      const callEmbeddings = (body: Record<string, unknown>) => send((apiKey) => embed({ url: embeddingsUrl(settings.baseUrl), apiKey, body }, policy, signal));
      try {
        const perRow = chunk.input.map((row) => (settings.api === 'embeddings' ? embedRow(row, settings, callEmbeddings) : rolloutRow(row, settings, call)));
        return (await Promise.all(perRow)).flat();
      } catch (error: unknown) {
        if (signal.aborted) return 'stopped';
        throw error;
      } finally {
        progress.flush(key);
        done();
      }
    },
  };
}

export const completionsUrl = (baseUrl: string) => `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
export const embeddingsUrl = (baseUrl: string) => `${baseUrl.replace(/\/+$/, '')}/embeddings`;

/** The row's `numRuns` rollouts, in run order. */
async function rolloutRow(
  input: { idx: number; data: string },
  settings: RolloutSettings,
  call: (body: Record<string, unknown>) => Promise<CompletionOutcome>,
): Promise<RolledRow[]> {
  const row = JSON.parse(input.data) as Record<string, unknown>;
  const runs = Array.from({ length: settings.numRuns }, (_, run) => run);
  const messages = row['messages'];
  if (!Array.isArray(messages)) {
    const error = 'the row has no "messages" array to send to the model';
    return runs.map((run) => rolledRow(row, input.idx, run, settings, { ok: false, error, attempts: 0, latencyMs: 0 }));
  }
  return Promise.all(runs.map(async (run) => rolledRow(row, input.idx, run, settings, await call(requestBody(row, messages, run, settings)))));
}

/** The chat-completions body of one run: extra body first, so the named fields win. */
function requestBody(row: Record<string, unknown>, messages: unknown[], run: number, settings: RolloutSettings): Record<string, unknown> {
  const { extraBody, seed, ...named } = settings.params;
  const body: Record<string, unknown> = { ...extraBody, ...named, model: settings.model, messages };
  if (Array.isArray(row['tools'])) body['tools'] = row['tools'];
  const runSeed = seedOfRun(seed, run);
  if (runSeed !== undefined) body['seed'] = runSeed;
  return body;
}

function rolledRow(row: Record<string, unknown>, idx: number, run: number, settings: RolloutSettings, outcome: CompletionOutcome): RolledRow {
  const out: Record<string, unknown> = { ...row };
  const stat: RolloutStat = { run, promptTokens: 0, completionTokens: 0, latencyMs: outcome.latencyMs, failed: !outcome.ok };
  if (outcome.ok) {
    out['messages'] = [...(row['messages'] as unknown[]), outcome.message];
    Object.assign(stat, { promptTokens: outcome.promptTokens, completionTokens: outcome.completionTokens });
  }
  const result = { message: outcome.ok ? outcome.message : null, finish_reason: outcome.ok ? outcome.finishReason : null };
  return withCall(out, outputIndexOf(idx, run, settings.numRuns), settings, outcome, stat, result);
}

/** The row with what its call did under `rollout` (`result`: what the call gave), ready to score; an error when the call failed. */
function withCall(out: Record<string, unknown>, idx: number, settings: RolloutSettings, outcome: CompletionOutcome | EmbeddingsOutcome, stat: RolloutStat, result: Record<string, unknown>): RolledRow {
  out['rollout'] = {
    run: stat.run,
    model: settings.model,
    ...result,
    usage: { prompt_tokens: stat.promptTokens, completion_tokens: stat.completionTokens },
    latency_ms: outcome.latencyMs,
    attempts: outcome.attempts,
    error: outcome.ok ? null : outcome.error,
  };
  const rolled: RolledRow = { idx, data: JSON.stringify(out), stat };
  if (!outcome.ok) rolled.error = outcome.error;
  return rolled;
}

/**
 * One embeddings request for the row's `embedding_input` texts. With `embedding_pairs` ([i, j]
 * index pairs) the row keeps the cosine similarity of each pair under `rollout.cosine`, not the
 * vectors (thousands of numbers a text, stored with every output row); without, the vectors.
 */
async function embedRow(
  input: { idx: number; data: string },
  settings: RolloutSettings,
  call: (body: Record<string, unknown>) => Promise<EmbeddingsOutcome>,
): Promise<RolledRow[]> {
  const row = JSON.parse(input.data) as Record<string, unknown>;
  const texts = row['embedding_input'];
  const pairs = row['embedding_pairs'];
  const fail = (error: string) => [embeddedRow(row, input.idx, settings, { ok: false, error, attempts: 0, latencyMs: 0 })];
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) return fail('the row has no "embedding_input" list of strings to embed');
  if (pairs !== undefined && !(Array.isArray(pairs) && pairs.every((p) => Array.isArray(p) && p.length === 2 && p.every((i) => Number.isInteger(i) && i >= 0 && i < texts.length)))) {
    return fail('"embedding_pairs" must be a list of [i, j] indexes into "embedding_input"');
  }
  const outcome = await call({ ...settings.params.extraBody, model: settings.model, input: texts });
  const wrong = !outcome.ok ? undefined
    : outcome.vectors.length !== texts.length ? `the endpoint answered ${outcome.vectors.length} vectors for ${texts.length} texts`
    : new Set(outcome.vectors.map((v) => v.length)).size !== 1 ? 'the endpoint answered vectors of different lengths'
    : undefined;
  if (wrong) return [embeddedRow(row, input.idx, settings, { ok: false, error: wrong, attempts: outcome.attempts, latencyMs: outcome.latencyMs })];
  return [embeddedRow(row, input.idx, settings, outcome, pairs as [number, number][] | undefined)];
}

function embeddedRow(row: Record<string, unknown>, idx: number, settings: RolloutSettings, outcome: EmbeddingsOutcome, pairs?: [number, number][]): RolledRow {
  const stat: RolloutStat = { run: 0, promptTokens: outcome.ok ? outcome.promptTokens : 0, completionTokens: 0, latencyMs: outcome.latencyMs, failed: !outcome.ok };
  const result = !outcome.ok ? {} : pairs ? { cosine: pairs.map(([i, j]) => cosineSimilarity(outcome.vectors[i]!, outcome.vectors[j]!)) } : { embeddings: outcome.vectors };
  return withCall({ ...row }, idx, settings, outcome, stat, result);
}
