/**
 * CSV exports of scored rows (docs/api.md, "CSV"). RFC 4180: comma-separated, CRLF-free (LF line
 * ends), a field with a comma, quote or line break quoted with its quotes doubled.
 *
 * - evaluation columns: `score`, `is_score_valid`, `error`, `reason`, then one `metric.<name>`
 *   column per metric (its score), for rows that carry an `evaluation_result`.
 * - input columns: every other top-level field of the row, strings as they are and anything else
 *   as JSON (`messages` is a JSON array in one cell).
 * The columns are fixed by the first rows seen (and the job's metric names), since a stream cannot
 * go back to widen its header; a field that first appears later is left out.
 */
export function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? jsonCell(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A value nested too deeply for JSON.stringify (stored before the upload depth limit) degrades, visibly. */
function jsonCell(value: object): string {
  try {
    return JSON.stringify(value);
  } catch (error: unknown) {
    if (error instanceof RangeError) return '[not shown: nested too deeply]';
    throw error;
  }
}

export function csvLine(fields: readonly unknown[]): string {
  return `${fields.map(csvCell).join(',')}\n`;
}

const OUTPUT_KEYS = new Set(['evaluation_result', 'evals', 'eval_details']);

interface Evaluation {
  score?: unknown;
  is_score_valid?: unknown;
  error?: unknown;
  reason?: unknown;
  metrics?: Record<string, { score?: unknown } | undefined>;
}

export interface RowCsvColumns {
  evaluated: boolean;
  metrics: string[];
  inputs: string[];
  /** Columns the caller adds after `index` (e.g. `error_kind`, `ms` of the results query). */
  extra: string[];
}

/** The columns for rows like `sample` (the first page), with the metric names known up front. */
export function rowCsvColumns(sample: readonly Record<string, unknown>[], options: { metrics?: readonly string[]; extra?: readonly string[] } = {}): RowCsvColumns {
  const metrics = new Set(options.metrics ?? []);
  const inputs = new Set<string>();
  let evaluated = false;
  for (const row of sample) {
    for (const key of Object.keys(row)) if (!OUTPUT_KEYS.has(key)) inputs.add(key);
    const evaluation = row['evaluation_result'] as Evaluation | undefined;
    if (!evaluation || typeof evaluation !== 'object') continue;
    evaluated = true;
    for (const name of Object.keys(evaluation.metrics ?? {})) metrics.add(name);
  }
  return { evaluated: evaluated || metrics.size > 0, metrics: [...metrics].sort(), inputs: [...inputs], extra: [...(options.extra ?? [])] };
}

export function rowCsvHeader(columns: RowCsvColumns): string {
  const evaluation = columns.evaluated ? ['score', 'is_score_valid', 'error', 'reason', ...columns.metrics.map((m) => `metric.${m}`)] : [];
  return csvLine(['index', ...columns.extra, ...evaluation, ...columns.inputs]);
}

export function rowCsvLine(columns: RowCsvColumns, index: number, row: Record<string, unknown>, extra: readonly unknown[] = []): string {
  const fields: unknown[] = [index, ...extra];
  if (columns.evaluated) {
    const e = (row['evaluation_result'] ?? {}) as Evaluation;
    fields.push(e.score, e.is_score_valid, e.error, e.reason, ...columns.metrics.map((m) => e.metrics?.[m]?.score));
  }
  for (const key of columns.inputs) fields.push(row[key]);
  return csvLine(fields);
}

/** Metric names a job's metrics name (`metric.<name>` keys). */
export function metricNamesOf(metrics: Record<string, number>): string[] {
  return Object.keys(metrics).filter((k) => k.startsWith('metric.')).map((k) => k.slice('metric.'.length));
}
