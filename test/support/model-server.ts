/**
 * A small OpenAI-compatible chat-completions (and embeddings) server for the rollout tests (loopback only): the
 * one stand-in the suite allows, for a model provider these machines cannot reach. It answers
 * deterministically from the prompt, can be slow, rate-limit (429 + Retry-After), fail (500),
 * hang or send malformed bodies, per request or for the first N requests of a prompt, and
 * records every request it received.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ChatMessage {
  role: string;
  content: string | null;
  [key: string]: unknown;
}

export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  seed?: number;
  max_tokens?: number;
  [key: string]: unknown;
}

/** What the server does with one request. */
export type Behaviour =
  | { kind: 'answer' }
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  /** A 200 with this body, as it is. */
  | { kind: 'body'; text: string };

export interface RecordedRequest {
  body: ChatRequest;
  headers: Record<string, string | string[] | undefined>;
  path: string;
  /** Milliseconds since the server started. */
  at: number;
  /** The last user message's content. */
  prompt: string;
}

export interface ModelServerOptions {
  /** Milliseconds before each answer. @default 0 */
  latencyMs?: number;
  /** The answer's content. @default defaultAnswer */
  answer?: (prompt: string, request: ChatRequest) => string;
  /**
   * What to do with a request, given how many requests of the same prompt came before it
   * (0 for the first). @default always answer
   */
  behaviour?: (prompt: string, attempt: number, request: ChatRequest) => Behaviour;
}

export interface ModelServer {
  /** The base URL clients are given (ends in /v1). */
  baseUrl: string;
  readonly requests: RecordedRequest[];
  options: ModelServerOptions;
  /** Requests answered or refused so far, and those in flight now. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Connections opened so far (keep-alive reuses them). */
  readonly connections: number;
  /** Forgets the requests, the attempts per prompt and the most in flight so far. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * "What is 2 + 3?" -> "5"; anything else -> "echo: <prompt>". With a seed the answer is the same
 * for the same prompt and seed (the server honours seeds by being a function of them).
 */
export function defaultAnswer(prompt: string): string {
  const sum = /(-?\d+)\s*\+\s*(-?\d+)/.exec(prompt);
  return sum ? String(Number(sum[1]) + Number(sum[2])) : `echo: ${prompt}`;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  const started = Date.now();
  const requests: RecordedRequest[] = [];
  const attempts = new Map<string, number>();
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let maxInFlight = 0;
  let connections = 0;
  const self: ModelServer = {
    baseUrl: '',
    requests,
    options,
    get inFlight() { return inFlight; },
    get maxInFlight() { return maxInFlight; },
    get connections() { return connections; },
    reset: () => {
      requests.length = 0;
      attempts.clear();
      maxInFlight = inFlight;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const embeddings = req.url?.endsWith('/embeddings') === true;
    if (req.method !== 'POST' || !(embeddings || req.url?.endsWith('/chat/completions'))) return reply(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
    let body: ChatRequest;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
    } catch {
      return reply(res, 400, { error: { message: 'body is not JSON' } });
    }
    const texts = typeof body['input'] === 'string' ? [body['input']] : body['input'];
    if (embeddings && !(Array.isArray(texts) && texts.every((t) => typeof t === 'string'))) return reply(res, 400, { error: { message: 'input: expected a string or a list of strings' } });
    if (!embeddings && !Array.isArray(body.messages)) return reply(res, 400, { error: { message: 'messages: expected an array' } });
    const prompt = embeddings ? (texts as string[]).join('\n') : lastUser(body.messages);
    const attempt = attempts.get(prompt) ?? 0;
    attempts.set(prompt, attempt + 1);
    requests.push({ body, headers: req.headers, path: req.url ?? '', at: Date.now() - started, prompt });
    const behaviour = self.options.behaviour?.(prompt, attempt, body) ?? { kind: 'answer' };
    if (behaviour.kind === 'hang') return; // never answered; the client's timeout must end it
    await new Promise((resolve) => setTimeout(resolve, self.options.latencyMs ?? 0));
    if (behaviour.kind === 'status') {
      const headers: Record<string, string> = behaviour.retryAfterSeconds === undefined ? {} : { 'retry-after': String(behaviour.retryAfterSeconds) };
      return reply(res, behaviour.status, { error: { message: `scripted ${behaviour.status}` } }, headers);
    }
    if (behaviour.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"choices": [{"message": ');
    }
    if (behaviour.kind === 'body') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(behaviour.text);
    }
    if (embeddings) return reply(res, 200, embeddingsOf(texts as string[]));
    reply(res, 200, completion(body, (self.options.answer ?? defaultAnswer)(prompt, body)));
  }

  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    handle(req, res).catch((error: unknown) => reply(res, 500, { error: { message: String(error) } }));
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    connections++;
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return self;
}

/**
 * A text's embedding: how often each letter a-z occurs in it, lower-cased (26 numbers). Crude and
 * deterministic: a test computes the cosine of two texts from it directly.
 */
export function letterEmbedding(text: string): number[] {
  const counts = new Array<number>(26).fill(0);
  for (const ch of text.toLowerCase()) {
    const at = ch.charCodeAt(0) - 97;
    if (at >= 0 && at < 26) counts[at]!++;
  }
  return counts;
}

/** Answered in reverse order, with `index`, as a client must put them back in order by it. */
function embeddingsOf(texts: string[]): Record<string, unknown> {
  const data = texts.map((text, index) => ({ object: 'embedding', index, embedding: letterEmbedding(text) })).reverse();
  const tokens = texts.reduce((n, text) => n + words(text), 0);
  return { object: 'list', data, model: 'suite-embedder', usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function lastUser(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return String(messages[i]!.content ?? '');
  return '';
}

function completion(body: ChatRequest, answer: string): Record<string, unknown> {
  const tokens = answer.split(/(\s+)/);
  const limit = body.max_tokens;
  const truncated = limit !== undefined && words(answer) > limit;
  const promptTokens = body.messages.reduce((n, m) => n + words(String(m.content ?? '')), 0);
  const content = truncated ? tokens.filter((t) => t.trim()).slice(0, limit).join(' ') : answer;
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model ?? 'test-model',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: truncated ? 'length' : 'stop' }],
    usage: { prompt_tokens: promptTokens, completion_tokens: words(content), total_tokens: promptTokens + words(content) },
  };
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
