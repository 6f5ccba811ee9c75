/** The Tally API as the UI uses it: the key and account kept in sessionStorage. */

export interface Session {
  key: string;
  accountId: string;
}

const STORAGE_KEY = 'tally.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Checks a key; answers its account (GET /verifyApiKey, header x-fireworks-account-id). */
export async function verifyKey(key: string): Promise<Session> {
  const response = await fetch('/verifyApiKey', { headers: { authorization: `Bearer ${key}` } });
  if (!response.ok) throw new ApiError(response.status, response.status === 401 ? 'That API key is not valid.' : `verifyApiKey: HTTP ${response.status}`);
  const accountId = response.headers.get('x-fireworks-account-id') ?? ((await response.json()) as { accountId?: string }).accountId;
  if (!accountId) throw new ApiError(500, 'the server did not say which account the key belongs to');
  return { key, accountId };
}

export class Api {
  constructor(readonly session: Session, private readonly onUnauthorized: () => void) {}

  /** A path under /v1/accounts/{account}/. */
  path(rest: string): string {
    return `/v1/accounts/${encodeURIComponent(this.session.accountId)}/${rest}`;
  }

  async request<T = Record<string, unknown>>(method: string, rest: string, body?: unknown, query?: Record<string, string | number | undefined>): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.session.key}` };
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') search.set(k, String(v));
    const qs = search.toString();
    const response = await fetch(this.path(rest) + (qs ? `?${qs}` : ''), { method, headers, body: payload });
    const text = await response.text();
    let json: unknown = {};
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { message: text };
    }
    if (!response.ok) {
      if (response.status === 401) this.onUnauthorized();
      throw new ApiError(response.status, (json as { message?: string }).message ?? `HTTP ${response.status}`);
    }
    return json as T;
  }

  get<T = Record<string, unknown>>(rest: string, query?: Record<string, string | number | undefined>) {
    return this.request<T>('GET', rest, undefined, query);
  }
  post<T = Record<string, unknown>>(rest: string, body: unknown) {
    return this.request<T>('POST', rest, body);
  }
  del(rest: string) {
    return this.request('DELETE', rest);
  }

  /** Every item of a list (a few pages of 200); for pickers and small lists. */
  async listAll<T>(collection: string, field: string, query: Record<string, string> = {}, max = 1000): Promise<T[]> {
    const out: T[] = [];
    let pageToken = '';
    do {
      const page = await this.get<Record<string, unknown>>(collection, { ...query, pageSize: 200, pageToken });
      out.push(...((page[field] as T[] | undefined) ?? []));
      pageToken = (page['nextPageToken'] as string | undefined) ?? '';
    } while (pageToken && out.length < max);
    return out;
  }
}

export const idOf = (name: string): string => name.split('/').pop() ?? name;

/** Wire types, as far as the UI reads them. */
export interface Evaluator {
  name: string;
  displayName?: string;
  description?: string;
  state?: string;
  status?: { code?: string; message?: string };
  createTime?: string;
  updateTime?: string;
  criteria?: { name?: string; type?: string; description?: string; codeSnippets?: { language?: string; fileContents?: Record<string, string>; entryFile?: string; entryFunc?: string } }[];
  requirements?: string;
  entryPoint?: string;
  commitHash?: string;
  source?: { type?: string; githubRepositoryName?: string };
}

export interface Dataset {
  name: string;
  displayName?: string;
  state: string;
  status?: { code?: string; message?: string };
  exampleCount: string;
  format?: string;
  createTime: string;
  averageTurnCount?: number;
  estimatedTokenCount?: string;
}

export interface Progress {
  rowsTotal: number;
  rowsDone: number;
  rowsErrored: number;
  rowsPerSecond: number;
  estimatedSecondsLeft: number | null;
  /** Tally: rows/s over about the last minute, once the server has seen an interval. */
  recentRowsPerSecond?: number;
  /** Tally: rows being scored right now (a single job's GET). */
  rowsInFlight?: number;
  /** Tally: rows answered from the score cache. */
  rowsCached?: number;
  /** Tally: model calls finished, for a job with a rollout step. */
  rolloutsDone?: number;
}

export interface Job {
  name: string;
  displayName?: string;
  state: string;
  status?: { code?: string; message?: string };
  createTime: string;
  updateTime?: string;
  evaluator: string;
  inputDataset: string;
  outputDataset: string;
  metrics?: Record<string, number>;
  outputStats?: string;
  progress?: Progress;
  leaderboardIds?: string[];
  /** Tally: the evaluator revision the job ran (e.g. "v3"). */
  evaluatorVersion?: string;
}

export interface Distribution {
  count: number;
  mean: number;
  min: number;
  max: number;
  histogram: { low: number; high: number; count: number }[];
}

export interface OutputStats {
  rowCount?: number;
  validCount?: number;
  errorCount?: number;
  score?: Distribution | null;
  metrics?: Record<string, Distribution>;
  errorsByKind?: Record<string, number>;
  rowMs?: Distribution | null;
  wallSeconds?: number;
  rowsPerSecond?: number;
}

export interface Result {
  index: number;
  score: number;
  isScoreValid: boolean;
  errorKind: string;
  ms: number;
  row: Record<string, unknown>;
}

export interface Leaderboard {
  name: string;
  displayName?: string;
  description?: string;
  jobCount?: number;
  createTime?: string;
}

export const TERMINAL_JOB_STATES = new Set(['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED', 'JOB_STATE_EARLY_STOPPED']);

export function parseStats(job: Job): OutputStats | null {
  if (!job.outputStats) return null;
  try {
    return JSON.parse(job.outputStats) as OutputStats;
  } catch {
    return null;
  }
}

/** Reads a JSONL download lazily: lines are read from the stream only as far as asked. */
export class JsonlReader {
  private readonly lines: string[] = [];
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private done = false;

  constructor(private readonly url: string) {}

  get finished(): boolean {
    return this.done;
  }

  /** Lines [start, start + count), reading on as needed. */
  async slice(start: number, count: number): Promise<string[]> {
    while (!this.done && this.lines.length < start + count) await this.readMore();
    return this.lines.slice(start, start + count);
  }

  cancel(): void {
    void this.reader?.cancel().catch(() => undefined);
    this.done = true;
  }

  private async readMore(): Promise<void> {
    if (!this.reader) {
      const response = await fetch(this.url);
      if (!response.ok || !response.body) throw new ApiError(response.status, `download: HTTP ${response.status}`);
      this.reader = response.body.getReader();
    }
    const { value, done } = await this.reader.read();
    if (done) {
      this.buffer += this.decoder.decode();
      if (this.buffer.trim() !== '') this.lines.push(this.buffer);
      this.buffer = '';
      this.done = true;
      return;
    }
    this.buffer += this.decoder.decode(value, { stream: true });
    const parts = this.buffer.split('\n');
    this.buffer = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') this.lines.push(line);
  }
}
