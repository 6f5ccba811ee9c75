/**
 * The pipe protocol between the runner (parent) and the harness inside a sandbox process
 * (child). Parent -> child: JSON lines on stdin. Child -> parent: JSON lines on fd 3.
 * See src/harness/python/README.md for the prose version.
 */

export interface LegacyManifest {
  contract: 'legacy';
  /** Absolute path inside the box; the module is imported with it on sys.path and as cwd. */
  root: string;
  file: string;
  func: string;
}

export interface CriteriaManifest {
  contract: 'criteria';
  root: string;
  criteria: Array<{ name: string; file: string; func: string }>;
}

export interface EntryPointManifest {
  contract: 'entry_point';
  root: string;
  path: string;
  func: string;
  mode: 'pointwise' | 'groupwise' | 'all';
}

export type HarnessManifest = (LegacyManifest | CriteriaManifest | EntryPointManifest) & {
  /** Largest encoded result of one row; larger ones become invalid_result. @default 1 MiB */
  max_result_bytes?: number;
  /**
   * After each batch, kill every other process in the box (what the evaluator left running).
   * Only for a box with its own PID namespace (bubblewrap): elsewhere it would kill the server.
   */
  reap_leftovers?: boolean;
};

export type ParentMessage =
  | { t: 'load'; manifest: HarnessManifest }
  /**
   * group: the rows are one group for a groupwise/all function. careful: flush every row (and run
   * them one at a time). concurrency: rows in flight at once for an async evaluator; threads: a
   * thread pool's size for a sync one; timeout_ms: each row's own limit inside a concurrent batch.
   */
  | { t: 'batch'; id: number; rows: readonly unknown[]; group?: boolean; careful?: boolean; concurrency?: number; threads?: number; timeout_ms?: number; labels?: readonly number[] }
  | { t: 'close' };

/**
 * A row already encoded as the text of one JSON object (a stored row): it goes into the batch
 * message as is. Parsing and re-encoding every row in the runner only to send it was a third of
 * the runner's time per chunk; the store holds only texts that parsed as JSON objects.
 */
export class RawJsonRow {
  constructor(readonly json: string) {}
}

/**
 * The text of a parent -> child message. A batch is a header line saying how many rows follow
 * (`n`), then one line per row: the harness decodes each row on its own, so a row Python's json
 * cannot decode (an integer of more than 4,300 digits, very deep nesting) costs that row only.
 * Raw rows are spliced in instead of re-encoded.
 */
export function encodeParentMessage(message: ParentMessage): string {
  if (message.t !== 'batch') return `${JSON.stringify(message)}\n`;
  const { rows, ...rest } = message;
  const lines = rows.map((row) => (row instanceof RawJsonRow ? oneLine(row.json) : JSON.stringify(row)));
  const head = `${JSON.stringify({ ...rest, n: rows.length })}\n`;
  return lines.length === 0 ? head : `${head}${lines.join('\n')}\n`;
}

/** A raw newline would split the frame; JSON allows one only as whitespace, so re-encode then. */
function oneLine(json: string): string {
  return json.includes('\n') ? JSON.stringify(JSON.parse(json)) : json;
}

export interface MetricResult {
  score: number;
  is_score_valid: boolean;
  reason: string | null;
}

export interface EvaluationResult extends MetricResult {
  metrics: Record<string, MetricResult>;
}

/** Error kinds the harness reports for one row; the process keeps running (timeout: a row of a concurrent batch). */
export type HarnessErrorKind = 'exception' | 'invalid_result' | 'memory' | 'timeout';

export interface RowError {
  kind: HarnessErrorKind | ProcessFailureKind;
  message: string;
  traceback?: string;
}

export type RowResultFrame =
  | { ok: true; result: EvaluationResult; ms: number }
  | { ok: false; error: RowError; ms: number };

/** What an eval-protocol entry point declares about generating (harness.py declared_rollout). */
export interface ReadyRollout {
  processor: string | null;
  completion_params: Record<string, unknown> | null;
  num_runs: number;
  passed_threshold: number | null;
  max_concurrent_rollouts?: number | null;
  max_concurrent_evaluations?: number | null;
}

export type ChildMessage =
  /** `mode`: how the loaded code takes rows (an entry point's @evaluation_test mode). */
  /** `async`: the evaluator is a coroutine function, so a batch's rows may run concurrently. */
  | { t: 'ready'; contract: string; python: string; mode?: 'pointwise' | 'groupwise' | 'all'; async?: boolean; rollout?: ReadyRollout | null }
  | { t: 'load_error'; message: string }
  | { t: 'results'; id: number; from: number; results: RowResultFrame[] }
  | { t: 'done'; id: number };

/** Ways a whole sandbox process fails while a row is in flight. */
export type ProcessFailureKind = 'crash' | 'timeout' | 'memory' | 'protocol' | 'output_too_large';

export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isScore = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isReason = (v: unknown): v is string | null => v === null || typeof v === 'string';

function isMetric(v: unknown): v is MetricResult {
  return isRecord(v) && isScore(v['score']) && typeof v['is_score_valid'] === 'boolean' && isReason(v['reason']);
}

function isResult(v: unknown): v is EvaluationResult {
  if (!isRecord(v) || !isMetric(v)) return false;
  const metrics: unknown = (v as { metrics?: unknown }).metrics;
  return isRecord(metrics) && Object.values(metrics).every(isMetric);
}

const MODES: ReadonlySet<unknown> = new Set(['pointwise', 'groupwise', 'all']);
const HARNESS_KINDS: ReadonlySet<unknown> = new Set(['exception', 'invalid_result', 'memory', 'timeout']);

/** Schema check of one row result, written by hand because it runs ~200k times a second. */
export function isRowResultFrame(v: unknown): v is RowResultFrame {
  if (!isRecord(v) || typeof v['ms'] !== 'number') return false;
  if (v['ok'] === true) return isResult(v['result']);
  const error = v['error'];
  return v['ok'] === false && isRecord(error) && HARNESS_KINDS.has(error['kind']) &&
    typeof error['message'] === 'string' &&
    (error['traceback'] === undefined || typeof error['traceback'] === 'string');
}

function checkShape(message: Record<string, unknown>): ChildMessage | undefined {
  switch (message['t']) {
    case 'ready':
      return typeof message['contract'] === 'string' && typeof message['python'] === 'string' &&
        (message['mode'] === undefined || MODES.has(message['mode'])) &&
        (message['async'] === undefined || typeof message['async'] === 'boolean')
        ? (message as unknown as ChildMessage) : undefined;
    case 'load_error':
      return typeof message['message'] === 'string' ? (message as unknown as ChildMessage) : undefined;
    case 'done':
      return isInt(message['id']) ? (message as unknown as ChildMessage) : undefined;
    case 'results': {
      const results = message['results'];
      const ok = isInt(message['id']) && isInt(message['from']) && Array.isArray(results) &&
        results.every(isRowResultFrame);
      return ok ? (message as unknown as ChildMessage) : undefined;
    }
    default:
      return undefined;
  }
}

/** Parses and validates one frame; throws ProtocolViolation with a short excerpt otherwise. */
export function parseChildMessage(line: string): ChildMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolViolation(`invalid frame (not JSON): ${excerpt(line)}`);
  }
  const message = isRecord(value) ? checkShape(value) : undefined;
  if (!message) throw new ProtocolViolation(`invalid frame: ${excerpt(line)}`);
  return message;
}

export function excerpt(text: string, max = 120): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}...` : text);
}
