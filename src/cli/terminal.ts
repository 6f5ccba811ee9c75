/** Small output helpers for the client commands: tables, progress bars, a spinner. */

export interface Output {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Redraw progress in place (stderr is a TTY, or --progress); otherwise one line per change. */
  live: boolean;
}

export function outputFor(options: Record<string, unknown>): Output {
  const live = Boolean(options['progress']) || process.stderr.isTTY === true;
  return { out: process.stdout, err: process.stderr, live };
}

/** Left-aligned columns, numbers right-aligned; a header row then one row per entry. */
export function table(headers: string[], rows: (string | number | undefined | null)[][]): string {
  const cells = rows.map((row) => row.map((cell) => (cell === undefined || cell === null ? '' : String(cell))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const numeric = headers.map((_, i) => cells.length > 0 && cells.every((row) => row[i] === '' || /^-?[\d.]+%?$/.test(row[i] ?? '')));
  const line = (row: string[]) =>
    row.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** Two columns, key and value, for a single resource. */
export function keyValues(entries: [string, unknown][]): string {
  const shown = entries.filter(([, v]) => v !== undefined && v !== null && v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n') + '\n';
}

export function bar(fraction: number, width = 28): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatNumber(value: unknown, digits = 4): string {
  if (typeof value !== 'number') return value === undefined || value === null ? '' : String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/**
 * A status line that redraws itself on a TTY and, elsewhere, prints only when its text (minus
 * the moving numbers the caller leaves out of `key`) changes, so logs stay readable.
 */
export class StatusLine {
  private lastKey: string | undefined;
  private drawn = false;

  constructor(private readonly output: Output) {}

  update(text: string, key: string = text): void {
    if (this.output.live) {
      this.output.err.write(`\r\x1b[2K${text}`);
      this.drawn = true;
    } else if (key !== this.lastKey) {
      this.output.err.write(`${key}\n`);
    }
    this.lastKey = key;
  }

  /** Ends the live line so what follows starts on a fresh one. */
  done(text?: string): void {
    if (this.output.live && this.drawn) this.output.err.write(text === undefined ? '\n' : `\r\x1b[2K${text}\n`);
    else if (text !== undefined && text !== this.lastKey) this.output.err.write(`${text}\n`);
    this.drawn = false;
  }
}

const SPINNER = ['|', '/', '-', '\\'];

/** A spinner frame for the n-th poll. */
export function spinner(n: number): string {
  return SPINNER[n % SPINNER.length]!;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
