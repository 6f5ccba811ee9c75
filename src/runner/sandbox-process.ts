/**
 * The parent side of a sandbox process: a warm, isolated child hosting one evaluator build
 * that scores batches of rows. Evaluator misbehaviour never throws: every row gets an outcome.
 */
import type { SandboxLauncher, SandboxSpec } from '../sandbox/index.js';
import { connect, type Connection, type Termination } from './connection.js';
import type { OutputStats, OutputStream } from './output-capture.js';
import type { DeclaredRollout } from '../domain/evaluators.js';
import type { ChildMessage, EvaluationResult, HarnessManifest, ReadyRollout, RowError, RowResultFrame } from './protocol.js';
import { SandboxStartError } from './sandbox-errors.js';

export type RowOutcome =
  | { ok: true; retry?: false; result: EvaluationResult; ms: number }
  | { ok: false; retry?: false; error: RowError; ms?: number }
  /**
   * Not scored: re-run on a fresh process. `suspect` is set on the first unanswered row when
   * the process died suddenly while results may still have been buffered in the child, so
   * the failure cannot be pinned on that row; re-run with `careful: true` to pin it.
   */
  | { ok: false; retry: true; reason: string; suspect?: { kind: RowError['kind']; message: string } };

export interface ScoreBatchOptions {
  /** Wall-clock limit for one row (for a group batch: for the whole group call). */
  perRowTimeoutMs: number;
  signal?: AbortSignal;
  /** The rows are one group for a groupwise/all entry point: one call, one list. */
  group?: boolean;
  /** The child flushes after every row, so a sudden death is pinned on the right row. */
  careful?: boolean;
  /** Rows of an async evaluator in flight at once in the process. @default 1 */
  concurrency?: number;
  /** Threads scoring the rows of a sync evaluator at once. @default 0 (one row at a time) */
  threads?: number;
  /** Each row's index in the job (its output row): a concurrent batch tags a row's prints `row <index>: `. @default its place in the batch */
  labels?: readonly number[];
}

export interface SandboxProcess {
  readonly pid: number;
  readonly python: string;
  /** How the loaded code takes rows: pointwise (default), groupwise or all. */
  readonly mode: 'pointwise' | 'groupwise' | 'all';
  /** The loaded code is a coroutine function: a batch may have many rows in flight at once. */
  readonly async: boolean;
  /** What an eval-protocol entry point declares about generating; null for other contracts. */
  readonly declaredRollout: DeclaredRollout | null;
  readonly state: 'ready' | 'busy' | 'dead';
  readonly output: OutputStats;
  scoreBatch(rows: readonly object[], options: ScoreBatchOptions): Promise<RowOutcome[]>;
  /** Asks the child to exit, then kills it after `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export interface StartSandboxProcessOptions {
  launcher: SandboxLauncher;
  spec: Omit<SandboxSpec, 'extraFds'>;
  manifest: HarnessManifest;
  loadTimeoutMs: number;
  onOutput?(stream: OutputStream, text: string): void;
  /** @default 1 MiB of stdout + stderr per process; the rest is counted and discarded. */
  maxOutputBytes?: number;
  /** @default 16 MiB per protocol frame. */
  maxFrameBytes?: number;
  /** Silence allowed beyond perRowTimeoutMs before a row counts as hung. @default 500 */
  flushSlackMs?: number;
  /** @default 2000 */
  killGraceMs?: number;
  /** Stops a load under way (a build's import check when the server stops). */
  signal?: AbortSignal;
}

const MiB = 1024 * 1024;

export async function startSandboxProcess(options: StartSandboxProcessOptions): Promise<SandboxProcess> {
  let conn: Connection;
  try {
    const child = options.launcher.spawn({ ...options.spec, extraFds: 1 });
    conn = connect(child, {
      maxFrameBytes: options.maxFrameBytes ?? 16 * MiB,
      maxOutputBytes: options.maxOutputBytes ?? MiB,
      onOutput: options.onOutput ?? (() => undefined),
      codesMaySignal: options.launcher.mode === 'bubblewrap',
      killGraceMs: options.killGraceMs,
    });
  } catch (error) {
    throw new SandboxStartError('spawn_failed', `could not start the sandbox process: ${String(error)}`, { cause: error });
  }
  const ready = await waitReady(conn, options);
  return createSandboxProcess(conn, ready, options);
}

interface ReadyInfo {
  python: string;
  mode: SandboxProcess['mode'];
  async: boolean;
  declaredRollout: DeclaredRollout | null;
}

function waitReady(conn: Connection, options: StartSandboxProcessOptions): Promise<ReadyInfo> {
  conn.send({ t: 'load', manifest: options.manifest });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void conn.terminate({ kind: 'timeout', message: 'load timed out' });
      reject(new SandboxStartError('load_timeout', `evaluator did not load within ${options.loadTimeoutMs} ms`));
    }, options.loadTimeoutMs);
    options.signal?.addEventListener('abort', () => void conn.terminate({ kind: 'closed', message: 'stopped while loading' }), { once: true });
    if (options.signal?.aborted) void conn.terminate({ kind: 'closed', message: 'stopped while loading' });
    conn.setListener({
      onMessage(message) {
        clearTimeout(timer);
        conn.setListener(null);
        if (message.t === 'ready') return resolve({ python: message.python, mode: message.mode ?? 'pointwise', async: message.async === true, declaredRollout: declaredRolloutOf(message.rollout) });
        void conn.terminate({ kind: 'closed', message: 'load failed' });
        if (message.t === 'load_error') return reject(new SandboxStartError('load_error', message.message));
        reject(new SandboxStartError('exited', `evaluator process sent ${message.t} before ready`));
      },
      onEnd(termination) {
        clearTimeout(timer);
        const tail = conn.stderrTail().trim();
        const detail = tail ? `; stderr: ${tail.slice(-1000)}` : '';
        reject(new SandboxStartError('exited', `evaluator process ended while loading: ${termination.message}${detail}`));
      },
    });
  });
}

function createSandboxProcess(
  conn: Connection,
  { python, mode, async, declaredRollout }: ReadyInfo,
  options: StartSandboxProcessOptions,
): SandboxProcess {
  let busy = false;
  let nextBatchId = 1;
  const proc: SandboxProcess = {
    pid: conn.pid,
    python,
    mode,
    async,
    declaredRollout,
    output: conn.output,
    get state() {
      return conn.ended ? 'dead' : busy ? 'busy' : 'ready';
    },
    async scoreBatch(rows, batchOptions) {
      if (busy) throw new Error('sandbox process is already scoring a batch');
      if (rows.length === 0) return [];
      busy = true;
      try {
        const concurrent = isConcurrent(async, rows.length, batchOptions);
        return await runBatch(conn, { id: nextBatchId++, rows, ...batchOptions, concurrent }, options);
      } finally {
        busy = false;
      }
    },
    async close(timeoutMs = 2_000) {
      if (conn.ended) return;
      conn.send({ t: 'close' });
      const timer = setTimeout(() => void conn.terminate({ kind: 'closed', message: 'closed' }), timeoutMs);
      await conn.whenEnded();
      clearTimeout(timer);
    },
    kill: () => conn.terminate({ kind: 'closed', message: 'killed by the runner' }),
  };
  return proc;
}

interface BatchRequest extends ScoreBatchOptions {
  id: number;
  rows: readonly object[];
  /** Several rows may be in flight at once, so a death cannot be pinned on the first unanswered. */
  concurrent: boolean;
}

/** Whether the child runs this batch's rows concurrently (a careful batch never does). */
function isConcurrent(async: boolean, rows: number, options: ScoreBatchOptions): boolean {
  if (options.careful || options.group || rows < 2) return false;
  return async ? (options.concurrency ?? 1) > 1 : (options.threads ?? 0) > 1;
}

function runBatch(conn: Connection, request: BatchRequest, options: StartSandboxProcessOptions): Promise<RowOutcome[]> {
  const { id, rows, perRowTimeoutMs, signal } = request;
  const outcomes: RowOutcome[] = [];
  const memoryNote = memoryMessage(options.spec.limits.addressSpaceBytes);
  return new Promise((resolve) => {
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => void conn.terminate(timeoutFailure(perRowTimeoutMs)), perRowTimeoutMs + (options.flushSlackMs ?? 500));
    };
    const onAbort = (): void => void conn.terminate({ kind: 'cancelled', message: 'the batch was cancelled' });
    const finish = (termination?: Termination): void => {
      clearTimeout(watchdog);
      signal?.removeEventListener('abort', onAbort);
      conn.setListener(null);
      if (termination) outcomes.push(...unanswered(rows.length - outcomes.length, termination, request));
      resolve(outcomes);
    };
    conn.setListener({
      onMessage(message) {
        if (!acceptFrame(message, id, outcomes, rows.length, memoryNote)) {
          void conn.terminate({ kind: 'protocol', message: `evaluator process broke the protocol: unexpected ${describeFrame(message)}` });
        } else if (message.t === 'done') finish();
        else arm();
      },
      onEnd: finish,
    });
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
    conn.send({ t: 'batch', id, rows, ...(request.group ? { group: true } : {}), ...(request.careful ? { careful: true } : {}), ...concurrencyFields(request) });
  });
}

/** A concurrent batch tells the child how many rows at once and each row's own time limit. */
function concurrencyFields(request: BatchRequest): Partial<{ concurrency: number; threads: number; timeout_ms: number; labels: readonly number[] }> {
  if (!request.concurrent) return {};
  const labels = request.labels?.length === request.rows.length ? { labels: request.labels } : {};
  return { concurrency: request.concurrency ?? 1, threads: request.threads ?? 0, timeout_ms: request.perRowTimeoutMs, ...labels };
}

/** Applies a results/done frame to the outcomes; false when the frame is out of place. */
function acceptFrame(message: ChildMessage, id: number, outcomes: RowOutcome[], total: number, memoryNote: string): boolean {
  if (message.t === 'done') return message.id === id && outcomes.length === total;
  if (message.t !== 'results' || message.id !== id || message.from !== outcomes.length) return false;
  if (outcomes.length + message.results.length > total) return false;
  for (const frame of message.results) outcomes.push(toOutcome(frame, memoryNote));
  return true;
}

function toOutcome(frame: RowResultFrame, memoryNote: string): RowOutcome {
  if (frame.ok) return { ok: true, result: frame.result, ms: frame.ms };
  if (frame.error.kind !== 'memory') return { ok: false, error: frame.error, ms: frame.ms };
  return { ok: false, error: { ...frame.error, message: `${memoryNote}: ${frame.error.message}` }, ms: frame.ms };
}

/** Outcomes for the rows the process did not answer: the one in flight, then the rest. */
function unanswered(count: number, termination: Termination, request: BatchRequest): RowOutcome[] {
  if (count <= 0) return [];
  if (termination.kind === 'cancelled' || termination.kind === 'closed') {
    return Array.from({ length: count }, () => ({ ok: false, retry: true, reason: termination.message }));
  }
  const error = { kind: termination.kind, message: termination.message };
  // A group is one call; a watchdog timeout is pinned by the child's 50 ms flusher (finished
  // rows were sent long before); careful mode flushes every row before starting the next.
  if (request.group) return Array.from({ length: count }, () => ({ ok: false, error }));
  // In a concurrent batch any row in flight may be the culprit: a careful re-run pins it.
  const pinned = request.careful === true || (!request.concurrent && 'inFlight' in termination && termination.inFlight === true);
  const first: RowOutcome = pinned
    ? { ok: false, error }
    : { ok: false, retry: true, reason: `process died, possibly on this row: ${error.message}`, suspect: error };
  const rest: RowOutcome[] = Array.from({ length: count - 1 }, () => ({
    ok: false,
    retry: true,
    reason: 'not scored: the evaluator process ended on an earlier row',
  }));
  return [first, ...rest];
}

function timeoutFailure(perRowTimeoutMs: number): Termination {
  const seconds = Number((perRowTimeoutMs / 1000).toFixed(3));
  return { kind: 'timeout', message: `evaluator process was killed after ${seconds} s without finishing this row`, inFlight: true };
}

function memoryMessage(addressSpaceBytes: number): string {
  return `ran out of memory (MemoryError / address-space limit of ${Math.round(addressSpaceBytes / MiB)} MiB)`;
}

function describeFrame(message: ChildMessage): string {
  return message.t === 'results' || message.t === 'done' ? `${message.t} frame for batch ${message.id}` : `${message.t} frame`;
}

/** The harness's report, checked field by field (it comes from the evaluator's process). */
function declaredRolloutOf(reported: ReadyRollout | null | undefined): DeclaredRollout | null {
  if (!reported || typeof reported !== 'object') return null;
  const params = reported.completion_params;
  return {
    processor: typeof reported.processor === 'string' ? reported.processor.slice(0, 200) : null,
    completionParams: params && typeof params === 'object' && !Array.isArray(params) ? params : null,
    numRuns: Number.isInteger(reported.num_runs) && reported.num_runs > 0 ? reported.num_runs : 1,
    passedThreshold: typeof reported.passed_threshold === 'number' && Number.isFinite(reported.passed_threshold) ? reported.passed_threshold : null,
    maxConcurrentRollouts: positiveIntOrNull(reported.max_concurrent_rollouts, 1024),
    maxConcurrentEvaluations: positiveIntOrNull(reported.max_concurrent_evaluations, 1024),
  };
}

/** A positive integer up to `max` (the bound of the job's own field), else null. */
function positiveIntOrNull(value: unknown, max: number): number | null {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max ? (value as number) : null;
}
