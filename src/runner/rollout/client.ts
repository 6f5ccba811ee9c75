/**
 * One call of an OpenAI-compatible endpoint (a chat completion, or embeddings), with a
 * per-request timeout and retries. It runs in the worker, never in the sandbox (which stays
 * offline). Node's fetch keeps connections alive and opens as many per origin as there are
 * requests in flight.
 */
import { coerceError } from '../../domain/errors.js';
import { jsonShapeProblem } from '../../domain/json-shape.js';
import { sleep, type RateLimiter } from './limits.js';

export interface CompletionRequest {
  /** `<baseUrl>/chat/completions` or `<baseUrl>/embeddings` */
  url: string;
  /** Sent as the bearer token; '' for none. */
  apiKey: string;
  body: Record<string, unknown>;
}

export interface RetryPolicy {
  timeoutMs: number;
  maxRetries: number;
  /** First backoff; doubled each retry, with jitter. @default 500 */
  baseDelayMs?: number;
  /** Longest wait between attempts, Retry-After included. @default 60000 */
  maxDelayMs?: number;
  rateLimiter?: RateLimiter;
}

export interface Completion {
  message: Record<string, unknown>;
  finishReason: string | null;
  promptTokens: number;
  completionTokens: number;
}

export interface Embeddings {
  /** One vector per input text, in the order of the request's `input`. */
  vectors: number[][];
  promptTokens: number;
}

export type CallOutcome<T> = ({ ok: true } & T & { latencyMs: number; attempts: number }) | { ok: false; error: string; attempts: number; latencyMs: number };
export type CompletionOutcome = CallOutcome<Completion>;
export type EmbeddingsOutcome = CallOutcome<Embeddings>;

/** One attempt: what the call gave, or why it is worth another try (a 429, a body cut short), or why not. */
type Attempt<T> = ({ kind: 'ok' } & T) | { kind: 'retry'; error: string; retryAfterMs?: number } | { kind: 'fatal'; error: string };

/**
 * Sends the request until it succeeds, fails in a way no retry can fix (a 4xx other than 429), or
 * has used its retries. 429, 5xx, timeouts, network errors and malformed bodies are retried,
 * after the endpoint's Retry-After when it sends one, else an exponential backoff with jitter.
 * Throws only when `signal` aborts (the job was cancelled): nothing of the chunk is kept then.
 */
export const complete = (request: CompletionRequest, policy: RetryPolicy, signal: AbortSignal): Promise<CompletionOutcome> => call(request, policy, signal, parseCompletion);

/** The same for `<baseUrl>/embeddings`: the vectors of the request's `input` texts. */
export const embed = (request: CompletionRequest, policy: RetryPolicy, signal: AbortSignal): Promise<EmbeddingsOutcome> => call(request, policy, signal, parseEmbeddings);

async function call<T>(request: CompletionRequest, policy: RetryPolicy, signal: AbortSignal, parse: (text: string) => Attempt<T>): Promise<CallOutcome<T>> {
  const { maxRetries, baseDelayMs = 500, maxDelayMs = 60_000 } = policy;
  for (let attempt = 1; ; attempt++) {
    await policy.rateLimiter?.take(signal);
    const started = performance.now();
    const outcome = await attemptOnce(request, policy.timeoutMs, signal, parse);
    const latencyMs = Math.round(performance.now() - started);
    if (outcome.kind === 'ok') return { ok: true, ...withoutKind(outcome), latencyMs, attempts: attempt } as CallOutcome<T>;
    if (outcome.kind === 'fatal' || attempt > maxRetries) {
      const tried = attempt > 1 ? ` (after ${attempt} attempts)` : '';
      return { ok: false, error: `${outcome.error}${tried}`, attempts: attempt, latencyMs };
    }
    const backoff = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
    await sleep(Math.min(maxDelayMs, outcome.retryAfterMs ?? backoff), signal);
  }
}

function withoutKind<T extends { kind: string }>({ kind: _, ...rest }: T): Omit<T, 'kind'> {
  return rest;
}

async function attemptOnce<T>(request: CompletionRequest, timeoutMs: number, signal: AbortSignal, parse: (text: string) => Attempt<T>): Promise<Attempt<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (request.apiKey) headers['authorization'] = `Bearer ${request.apiKey}`;
  // One controller per attempt, unlinked when it ends: AbortSignal.timeout and AbortSignal.any
  // would keep a timer and a listener alive per request until the timeout (memory grew with
  // every request of a long job).
  const attempt = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    attempt.abort(new Error('request timeout'));
  }, timeoutMs);
  const stop = () => attempt.abort(signal.reason);
  signal.addEventListener('abort', stop, { once: true });
  try {
    if (signal.aborted) throw signal.reason as Error;
    const response = await fetch(request.url, { method: 'POST', headers, body: JSON.stringify(request.body), signal: attempt.signal });
    // Read to the end whatever the status: the connection goes back to the pool only then.
    const text = await response.text();
    if (response.ok) return parse(text);
    const detail = `HTTP ${response.status} from ${request.url}: ${errorMessageOf(text)}`;
    if (response.status === 429 || response.status >= 500) return { kind: 'retry', error: detail, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
    return { kind: 'fatal', error: detail };
  } catch (error: unknown) {
    if (signal.aborted) throw signal.reason as Error;
    if (timedOut) return { kind: 'retry', error: `no answer from ${request.url} within the request timeout of ${timeoutMs / 1000} s` };
    const cause = coerceError(error);
    const reason = cause.cause instanceof Error ? cause.cause.message : cause.message;
    return { kind: 'retry', error: `request to ${request.url} failed: ${reason}` };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
  }
}

function parseCompletion(text: string): Attempt<Completion> {
  const body = parseJson(text);
  if (!('value' in body)) return body;
  const choice = (body.value as { choices?: unknown[] } | null)?.choices?.[0] as { message?: unknown; finish_reason?: unknown } | undefined;
  const message = choice?.message;
  if (!message || typeof message !== 'object' || Array.isArray(message)) {
    return { kind: 'retry', error: `the endpoint answered 200 without choices[0].message: ${excerpt(text)}` };
  }
  const usage = usageOf(body.value);
  return {
    kind: 'ok',
    message: { role: 'assistant', ...(message as Record<string, unknown>) },
    finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : null,
    promptTokens: count(usage['prompt_tokens']),
    completionTokens: count(usage['completion_tokens']),
  };
}

/** `{data: [{index, embedding: number[]}], usage}`, the vectors put back in input order by `index`. */
function parseEmbeddings(text: string): Attempt<Embeddings> {
  const body = parseJson(text);
  if (!('value' in body)) return body;
  const data = (body.value as { data?: unknown } | null)?.data;
  const items = Array.isArray(data) ? (data as { index?: unknown; embedding?: unknown }[]) : [];
  const vectors: number[][] = [];
  for (const [at, item] of items.entries()) {
    const index = typeof item?.index === 'number' ? item.index : at;
    if (!Array.isArray(item?.embedding) || !item.embedding.every((x) => typeof x === 'number' && Number.isFinite(x)) || vectors[index] !== undefined) {
      return { kind: 'retry', error: `the endpoint answered 200 without a vector of numbers in data[${at}].embedding: ${excerpt(text)}` };
    }
    vectors[index] = item.embedding as number[];
  }
  if (items.length === 0 || vectors.length !== items.length) return { kind: 'retry', error: `the endpoint answered 200 without data[].embedding for each input: ${excerpt(text)}` };
  return { kind: 'ok', vectors, promptTokens: count(usageOf(body.value)['prompt_tokens']) };
}

/**
 * The body, or why not: not JSON is worth another try (a body cut short); JSON Tally could not
 * store and serve back (nesting past MAX_JSON_DEPTH, a 4,301-digit integer) is the row's error,
 * as it would be in an uploaded row (domain/json-shape.ts): the same answer would come again.
 */
function parseJson(text: string): { value: unknown } | { kind: 'retry' | 'fatal'; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { kind: 'retry', error: `the endpoint answered 200 with a body that is not JSON: ${excerpt(text)}` };
  }
  const bytes = Buffer.from(text);
  const problem = jsonShapeProblem(bytes, 0, bytes.length);
  return problem ? { kind: 'fatal', error: `the endpoint's answer cannot be kept: ${problem}` } : { value };
}

const usageOf = (body: unknown): Record<string, unknown> => ((body as { usage?: Record<string, unknown> } | null)?.usage ?? {});
const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Retry-After in seconds or as an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function errorMessageOf(text: string): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return excerpt(message);
  } catch {
    // not JSON: the text itself
  }
  return excerpt(text);
}

const excerpt = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}...` : text) || '(empty body)';
