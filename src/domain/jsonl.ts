/**
 * Streaming JSONL reader for dataset uploads.
 *
 * Files can hold millions of rows (hundreds of MB), so the scanner works on raw byte chunks as
 * they arrive, keeps at most one partial line in memory (and not even that once a line is known
 * to be over the limit), and reports errors by 1-based line number so users can fix their file.
 */
import { isUtf8 } from 'node:buffer';
import { jsonShapeProblem } from './json-shape.js';

export interface JsonlLimits {
  /** Longest accepted line in bytes, without its line ending. */
  maxLineBytes: number;
  /** How many line errors are kept with their text; `errorCount` still counts all of them. */
  maxErrors: number;
}

export interface JsonlRow {
  /** 1-based line number in the file. */
  line: number;
  /** The line as stored: UTF-8 decoded, without the trailing `\r\n` (or BOM on line 1). */
  text: string;
  value: Record<string, unknown>;
}

export interface JsonlLineError {
  line: number;
  problem: string;
}

export type DatasetFormat = 'CHAT' | 'COMPLETION' | 'FORMAT_UNSPECIFIED';

export interface DatasetStats {
  exampleCount: number;
  format: DatasetFormat;
  averageTurnCount: number;
  estimatedTokenCount: number;
}

export const DEFAULT_JSONL_LIMITS: Readonly<JsonlLimits> = Object.freeze({
  maxLineBytes: 8 * 1024 * 1024,
  maxErrors: 10,
});

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const OPEN_BRACE = 0x7b;
/** A partial line may carry a BOM (3 bytes) and a `\r` (1 byte) that do not count to the limit. */
const LINE_SLACK_BYTES = 4;
/** Parser messages can quote the input; keep error reports short. */
const MAX_PROBLEM_CHARS = 200;
/** About 4 bytes of English text per token for common BPE tokenisers (cl100k, Llama). */
const BYTES_PER_TOKEN_ESTIMATE = 4;

/** Incremental line splitter + validator: feed chunks with `push`, then call `end` once. */
export class JsonlScanner {
  readonly limits: Readonly<JsonlLimits>;
  readonly errors: JsonlLineError[] = [];
  #errorCount = 0;
  #stats = new StatsAccumulator();
  /** Number of lines completed so far (the next line is `#lineCount + 1`). */
  #lineCount = 0;
  /** Pieces of the current partial line, copied so callers may reuse their chunk buffers. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** The current partial line is already over the limit: its bytes are dropped as they arrive. */
  #discarding = false;
  #ended = false;

  constructor(limits: Partial<JsonlLimits> = {}) {
    this.limits = resolveLimits(limits);
  }

  get errorCount(): number {
    return this.#errorCount;
  }

  get stats(): DatasetStats {
    return this.#stats.snapshot();
  }

  /** Bytes held for an unfinished line: bounded by maxLineBytes + a few, whatever the input. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Returns the valid rows completed by this chunk; invalid lines go to `errors`. */
  push(chunk: Uint8Array): JsonlRow[] {
    if (this.#ended) throw new Error('JsonlScanner.push called after end()');
    const buf = asBuffer(chunk);
    const rows: JsonlRow[] = [];
    const first = buf.indexOf(NEWLINE);
    if (first === -1) {
      this.#hold(buf);
      return rows;
    }
    let start = 0;
    if (this.#pendingBytes > 0 || this.#discarding) {
      this.#finishPending(buf.subarray(0, first), rows);
      start = first + 1;
    }
    const last = buf.lastIndexOf(NEWLINE);
    if (last >= start) this.#scanWholeLines(buf, start, last, rows);
    this.#hold(buf.subarray(last + 1));
    return rows;
  }

  /** Flushes the last line (a file need not end with a newline). Further pushes throw. */
  end(): JsonlRow[] {
    if (this.#ended) return [];
    this.#ended = true;
    const rows: JsonlRow[] = [];
    if (this.#pendingBytes > 0 || this.#discarding) this.#finishPending(EMPTY, rows);
    return rows;
  }

  /** Lines wholly inside `buf`, from `start` up to the newline at `last`. */
  #scanWholeLines(buf: Buffer, start: number, last: number, rows: JsonlRow[]): void {
    // One validation pass over the whole region: '\n' never occurs inside a multi-byte UTF-8
    // sequence, so if the region is valid every line in it is; only a bad region is re-checked
    // line by line to find the culprit.
    const regionIsUtf8 = isUtf8(buf.subarray(start, last));
    let s = start;
    while (s <= last) {
      const e = buf.indexOf(NEWLINE, s);
      this.#line(buf, s, e, regionIsUtf8, rows);
      s = e + 1;
    }
  }

  /** Completes the partial line with `head` (the bytes up to the next newline, or nothing). */
  #finishPending(head: Buffer, rows: JsonlRow[]): void {
    const total = this.#pendingBytes + head.length;
    const pending = this.#pending;
    const discarding = this.#discarding;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#discarding = false;
    if (discarding || total > this.limits.maxLineBytes + LINE_SLACK_BYTES) {
      this.#fail(++this.#lineCount, this.#tooLong());
      return;
    }
    pending.push(head);
    const joined = Buffer.concat(pending, total);
    this.#line(joined, 0, joined.length, false, rows);
  }

  /** Keeps the bytes of an unfinished line, or drops them once the line is known too long. */
  #hold(tail: Buffer): void {
    if (tail.length === 0 || this.#discarding) return;
    if (this.#pendingBytes + tail.length > this.limits.maxLineBytes + LINE_SLACK_BYTES) {
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#discarding = true;
      return;
    }
    this.#pending.push(Buffer.from(tail));
    this.#pendingBytes += tail.length;
  }

  /** Checks one line `buf[s, e)` (without its '\n') in the documented order. */
  #line(buf: Buffer, s: number, e: number, knownUtf8: boolean, rows: JsonlRow[]): void {
    const line = ++this.#lineCount;
    if (e > s && buf[e - 1] === CARRIAGE_RETURN) e--;
    if (line === 1 && hasBom(buf, s, e)) s += 3;
    if (e - s > this.limits.maxLineBytes) return this.#fail(line, this.#tooLong());
    if (isBlank(buf, s, e)) return;
    if (!knownUtf8 && !isUtf8(buf.subarray(s, e))) return this.#fail(line, 'not valid UTF-8');
    const text = buf.toString('utf8', s, e);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return this.#fail(line, `not valid JSON: ${shorten(messageOf(err))}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.#fail(line, `not a JSON object (got ${jsonKind(value)})`);
    }
    const shapeProblem = jsonShapeProblem(buf, s, e);
    if (shapeProblem) return this.#fail(line, shapeProblem);
    const row = value as Record<string, unknown>;
    this.#stats.add(row);
    rows.push({ line, text, value: row });
  }

  #tooLong(): string {
    return `longer than the limit of ${this.limits.maxLineBytes} bytes`;
  }

  #fail(line: number, problem: string): void {
    this.#errorCount++;
    if (this.errors.length < this.limits.maxErrors) this.errors.push({ line, problem });
  }
}

/**
 * Scans a byte (or string) stream and yields valid rows in batches of `batchSize`. Pass a
 * `JsonlScanner` to read its `errors`, `errorCount` and `stats` afterwards; the scanner is also
 * the generator's return value. String chunks are encoded as UTF-8 on their own, so a string
 * source must not split a surrogate pair across chunks.
 */
export async function* scanJsonl(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  scannerOrLimits: JsonlScanner | Partial<JsonlLimits> = {},
  batchSize = 1000,
): AsyncGenerator<JsonlRow[], JsonlScanner, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const scanner =
    scannerOrLimits instanceof JsonlScanner ? scannerOrLimits : new JsonlScanner(scannerOrLimits);
  let batch: JsonlRow[] = [];
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (const row of scanner.push(bytes)) {
      batch.push(row);
      if (batch.length < batchSize) continue;
      yield batch;
      batch = [];
    }
  }
  for (const row of scanner.end()) {
    batch.push(row);
    if (batch.length < batchSize) continue;
    yield batch;
    batch = [];
  }
  if (batch.length > 0) yield batch;
  return scanner;
}

/** "line 3: not valid JSON (...); line 9: not a JSON object (got array); and 12 more errors". */
export function formatLineErrors(errors: readonly JsonlLineError[], errorCount: number): string {
  const parts = errors.map((e) => `line ${e.line}: ${e.problem}`);
  const more = errorCount - errors.length;
  if (more > 0) parts.push(`and ${more} more error${more === 1 ? '' : 's'}`);
  return parts.join('; ');
}

/** Running dataset stats over valid rows, O(1) memory. */
class StatsAccumulator {
  #rows = 0;
  #allChat = true;
  #allCompletion = true;
  #rowsWithMessages = 0;
  #turns = 0;
  #textBytes = 0;

  add(row: Record<string, unknown>): void {
    this.#rows++;
    const messages = row['messages'];
    const prompt = row['prompt'];
    const completion = row['completion'];
    if (typeof prompt !== 'string' || typeof completion !== 'string') this.#allCompletion = false;
    if (Array.isArray(messages)) {
      this.#rowsWithMessages++;
      this.#turns += messages.length;
      if (messages.length === 0) this.#allChat = false;
      this.#textBytes += contentBytes(messages);
      return;
    }
    this.#allChat = false;
    if (typeof prompt === 'string') this.#textBytes += utf8Bytes(prompt);
    if (typeof completion === 'string') this.#textBytes += utf8Bytes(completion);
  }

  snapshot(): DatasetStats {
    let format: DatasetFormat = 'FORMAT_UNSPECIFIED';
    if (this.#rows > 0 && this.#allChat) format = 'CHAT';
    else if (this.#rows > 0 && this.#allCompletion) format = 'COMPLETION';
    return {
      exampleCount: this.#rows,
      format,
      averageTurnCount: this.#rowsWithMessages === 0 ? 0 : this.#turns / this.#rowsWithMessages,
      // An estimate, not a tokenisation: UTF-8 bytes of the text / ~4 bytes per token.
      estimatedTokenCount: Math.ceil(this.#textBytes / BYTES_PER_TOKEN_ESTIMATE),
    };
  }
}

const EMPTY = Buffer.alloc(0);

function resolveLimits(limits: Partial<JsonlLimits>): Readonly<JsonlLimits> {
  const maxLineBytes = limits.maxLineBytes ?? DEFAULT_JSONL_LIMITS.maxLineBytes;
  const maxErrors = limits.maxErrors ?? DEFAULT_JSONL_LIMITS.maxErrors;
  if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
  }
  if (!Number.isSafeInteger(maxErrors) || maxErrors < 0) {
    throw new RangeError(`maxErrors must be a non-negative integer, got ${maxErrors}`);
  }
  return Object.freeze({ maxLineBytes, maxErrors });
}

/** A Buffer view over the same memory (no copy), so Buffer's native helpers apply. */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
}

function hasBom(buf: Buffer, s: number, e: number): boolean {
  return e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf;
}

/**
 * Blank means only JSON whitespace (space, tab, CR). Stops at the first other byte, which for
 * real rows is the very first one ('{'), so this is not a scan of the line.
 */
function isBlank(buf: Buffer, s: number, e: number): boolean {
  if (s < e && buf[s] === OPEN_BRACE) return false;
  for (let i = s; i < e; i++) {
    const b = buf[i];
    if (b !== SPACE && b !== TAB && b !== CARRIAGE_RETURN) return false;
  }
  return true;
}

function contentBytes(messages: unknown[]): number {
  let bytes = 0;
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue;
    const content = (message as Record<string, unknown>)['content'];
    if (typeof content === 'string') bytes += utf8Bytes(content);
  }
  return bytes;
}

/** Decoded bytes, not the line's: `\u00e9` escapes (Python's default) count as the real text. */
function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function shorten(text: string): string {
  return text.length <= MAX_PROBLEM_CHARS ? text : `${text.slice(0, MAX_PROBLEM_CHARS - 1)}…`;
}
