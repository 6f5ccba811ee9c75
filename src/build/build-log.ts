/**
 * The build log of one evaluator build: append-only, one timestamped line per entry, capped in
 * size. When the cap is reached the start (what was being built) and the end (why it failed:
 * pip prints its ERROR lines last) are kept, and a marker says how much was dropped between.
 */

export interface BuildLogOptions {
  /** Cap on the rendered log, in bytes (UTF-8). Default 1 MiB. */
  maxBytes?: number;
  /** Longer lines are cut, so one runaway line cannot take the whole budget. Default 4 KiB. */
  maxLineBytes?: number;
  now?: () => Date;
  /** Called with every stored line as it is appended, for live tailing. */
  onLine?: (line: string) => void;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_MAX_LINE_BYTES = 4096;
/** Share of the cap kept for the start of the log; the rest rolls with the end. */
const HEAD_SHARE = 0.25;

export class BuildLog {
  private readonly head: string[] = [];
  private headBytes = 0;
  private readonly tail: string[] = [];
  private tailBytes = 0;
  private tailStart = 0;
  private droppedLines = 0;
  private droppedBytes = 0;
  private readonly maxBytes: number;
  private readonly maxLineBytes: number;
  private readonly now: () => Date;
  private readonly onLine: ((line: string) => void) | undefined;

  constructor(options: BuildLogOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.now = options.now ?? (() => new Date());
    this.onLine = options.onLine;
  }

  /** Appends text; every line in it (split on newlines) becomes one timestamped entry. */
  append(text: string): void {
    const stamp = this.now().toISOString();
    for (const raw of text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n')) {
      const line = `${stamp} ${truncate(raw, this.maxLineBytes)}`;
      this.store(line);
      this.onLine?.(line);
    }
  }

  /** A bound `append`, for passing as a `log` callback. */
  readonly log = (line: string): void => this.append(line);

  private store(line: string): void {
    const size = Buffer.byteLength(line) + 1;
    if (this.headBytes + size <= this.maxBytes * HEAD_SHARE && this.tail.length === 0) {
      this.head.push(line);
      this.headBytes += size;
      return;
    }
    this.tail.push(line);
    this.tailBytes += size;
    const tailBudget = this.maxBytes - this.headBytes;
    while (this.tailBytes > tailBudget && this.tailStart < this.tail.length) {
      const dropped = this.tail[this.tailStart] ?? '';
      this.tailStart += 1;
      this.tailBytes -= Buffer.byteLength(dropped) + 1;
      this.droppedLines += 1;
      this.droppedBytes += Buffer.byteLength(dropped) + 1;
    }
    // Compact now and then, so dropping from the front stays O(1) amortised.
    if (this.tailStart > 1024 && this.tailStart * 2 > this.tail.length) {
      this.tail.splice(0, this.tailStart);
      this.tailStart = 0;
    }
  }

  /** The log as stored, newline-terminated. */
  text(): string {
    const lines = [...this.head];
    if (this.droppedLines > 0) {
      lines.push(`... ${this.droppedLines} lines (${this.droppedBytes} bytes) omitted: the build log is capped at ${this.maxBytes} bytes ...`);
    }
    for (let i = this.tailStart; i < this.tail.length; i += 1) lines.push(this.tail[i] ?? '');
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }

  get truncated(): boolean {
    return this.droppedLines > 0;
  }
}

function truncate(line: string, maxBytes: number): string {
  if (Buffer.byteLength(line) <= maxBytes) return line;
  const cut = Buffer.from(line).subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  return `${cut} [line cut at ${maxBytes} bytes]`;
}

/**
 * Turns a stream of output chunks into whole lines as they complete (a trailing partial line
 * is flushed by `end`). Decodes UTF-8 across chunk boundaries; a CR before the LF is dropped.
 */
export class LineSplitter {
  private pending = '';
  private readonly decoder = new TextDecoder();

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Uint8Array | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    let newline = this.pending.indexOf('\n');
    while (newline !== -1) {
      this.onLine(this.pending.slice(0, newline).replace(/\r$/, ''));
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf('\n');
    }
  }

  end(): void {
    this.pending += this.decoder.decode();
    if (this.pending !== '') this.onLine(this.pending.replace(/\r$/, ''));
    this.pending = '';
  }
}
