/**
 * Comparing two jobs row by row (docs/api.md, "Comparing two jobs"; docs/metrics.md).
 *
 * - baseline / candidate: the job compared against, and the job compared.
 * - side: one job's per-row results as typed arrays (a million rows cost a few arrays, not
 *   a million objects), in the order they were read.
 * - pair: a baseline row and a candidate row joined by index or by a key of the input row.
 * - row status: improved / regressed / unchanged when both sides have the row, compared on the
 *   effective score (a row that errored or whose score is not valid counts as 0), else
 *   only_baseline / only_candidate.
 * - summary: the counts, and the paired statistics (paired-stats.ts) of the score over the pairs
 *   where both scores are valid, and of each metric over the pairs where both sides report it.
 */
import { invalidArgument } from './errors.js';
import type { RowResult } from './jobs.js';
import { pairedSummary, type PairedSummary } from './paired-stats.js';

export const ROW_STATUSES = ['regressed', 'improved', 'unchanged', 'only_baseline', 'only_candidate'] as const;
export type RowStatus = (typeof ROW_STATUSES)[number];
const STATUS_CODE: Record<RowStatus, number> = { regressed: 0, improved: 1, unchanged: 2, only_baseline: 3, only_candidate: 4 };

/** One job's results in columns. `metrics` holds NaN where a row does not report the metric. */
export class ComparisonSide {
  idx = new Int32Array(1024);
  score = new Float64Array(1024);
  valid = new Uint8Array(1024);
  readonly metrics = new Map<string, Float64Array>();
  /** Error kinds by position: most rows have none, so a map, not a column of ''. */
  readonly errors = new Map<number, string>();
  length = 0;

  add(result: RowResult): void {
    if (this.length === this.idx.length) this.grow();
    const at = this.length++;
    this.idx[at] = result.idx;
    this.score[at] = result.score;
    this.valid[at] = result.isScoreValid && !result.errorKind && Number.isFinite(result.score) ? 1 : 0;
    if (result.errorKind) this.errors.set(at, result.errorKind);
    for (const [name, value] of Object.entries(result.metrics)) {
      let column = this.metrics.get(name);
      if (!column) this.metrics.set(name, (column = new Float64Array(this.idx.length).fill(NaN)));
      column[at] = result.errorKind ? NaN : value;
    }
  }

  effectiveScore(at: number): number {
    return this.valid[at] ? this.score[at]! : 0;
  }

  metric(name: string, at: number): number {
    return this.metrics.get(name)?.[at] ?? NaN;
  }

  /** Puts the rows in index order (results arrive chunk by chunk, so they almost always are). */
  sortByIndex(): void {
    let sorted = true;
    for (let at = 1; at < this.length && sorted; at++) sorted = this.idx[at - 1]! < this.idx[at]!;
    if (sorted) return;
    const order = Uint32Array.from({ length: this.length }, (_, i) => i).sort((a, b) => this.idx[a]! - this.idx[b]!);
    const errors = new Map(this.errors);
    this.errors.clear();
    this.idx = Int32Array.from(order, (at) => this.idx[at]!);
    this.score = Float64Array.from(order, (at) => this.score[at]!);
    this.valid = Uint8Array.from(order, (at) => this.valid[at]!);
    for (const [name, column] of this.metrics) this.metrics.set(name, Float64Array.from(order, (at) => column[at]!));
    order.forEach((from, to) => errors.has(from) && this.errors.set(to, errors.get(from)!));
  }

  private grow(): void {
    const size = this.idx.length * 2;
    this.idx = copyInto(new Int32Array(size), this.idx);
    this.score = copyInto(new Float64Array(size), this.score);
    this.valid = copyInto(new Uint8Array(size), this.valid);
    for (const [name, column] of this.metrics) this.metrics.set(name, copyInto(new Float64Array(size).fill(NaN), column));
  }
}

function copyInto<T extends Int32Array | Float64Array | Uint8Array>(target: T, source: T): T {
  target.set(source as never);
  return target;
}

/** Positions into each side, one entry per compared row; -1 where that side lacks the row. */
export interface Pairing {
  baseline: Int32Array;
  candidate: Int32Array;
  /** The join key of each compared row when joined by key. */
  keys?: string[];
}

/** Pairs rows with the same index (both sides' results in index order). */
export function pairByIndex(baseline: ComparisonSide, candidate: ComparisonSide): Pairing {
  const b: number[] = [];
  const c: number[] = [];
  let i = 0;
  let j = 0;
  while (i < baseline.length || j < candidate.length) {
    const bi = i < baseline.length ? baseline.idx[i]! : Infinity;
    const cj = j < candidate.length ? candidate.idx[j]! : Infinity;
    b.push(bi <= cj ? i++ : -1);
    c.push(cj <= bi ? j++ : -1);
  }
  return { baseline: Int32Array.from(b), candidate: Int32Array.from(c) };
}

/**
 * Pairs rows whose input rows have the same key. `keysOf*` are the keys by row index; a side's
 * result whose row has no key, or two rows with one key, is an error naming the row.
 */
export function pairByKey(sides: { baseline: ComparisonSide; candidate: ComparisonSide }, keys: { baseline: Map<number, string>; candidate: Map<number, string> }, joinKey: string): Pairing {
  const basePositions = positionsByKey(sides.baseline, keys.baseline, { joinKey, which: 'baseline' });
  const candPositions = positionsByKey(sides.candidate, keys.candidate, { joinKey, which: 'candidate' });
  const b: number[] = [];
  const c: number[] = [];
  const out: string[] = [];
  for (const [key, position] of candPositions) {
    out.push(key);
    c.push(position);
    b.push(basePositions.get(key) ?? -1);
  }
  for (const [key, position] of basePositions) {
    if (candPositions.has(key)) continue;
    out.push(key);
    c.push(-1);
    b.push(position);
  }
  return { baseline: Int32Array.from(b), candidate: Int32Array.from(c), keys: out };
}

function positionsByKey(side: ComparisonSide, keys: Map<number, string>, where: { joinKey: string; which: string }): Map<string, number> {
  const positions = new Map<string, number>();
  for (let at = 0; at < side.length; at++) {
    const idx = side.idx[at]!;
    const key = keys.get(idx);
    if (key === undefined) throw invalidArgument(`joinKey: row ${idx} of the ${where.which} job's input has no "${where.joinKey}" (a string or a number)`);
    if (positions.has(key)) throw invalidArgument(`joinKey: "${where.joinKey}" is not unique in the ${where.which} job's input: rows ${side.idx[positions.get(key)!]} and ${idx} both have ${JSON.stringify(key)}`);
    positions.set(key, at);
  }
  return positions;
}

/** The value at a dotted path of a JSON row, as a join key (strings and finite numbers only). */
export function joinKeyOf(row: unknown, path: readonly string[]): string | undefined {
  let value: unknown = row;
  for (const part of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** `input_metadata.row_id` -> its parts; a clear error for anything else. */
export function parseJoinKey(joinKey: string): string[] {
  const parts = joinKey.split('.');
  if (joinKey.length > 256 || parts.some((p) => !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(p))) {
    throw invalidArgument(`joinKey: "${joinKey}" is not a dotted path of field names (e.g. input_metadata.row_id)`);
  }
  return parts;
}

export interface ComparisonCounts {
  improved: number;
  regressed: number;
  unchanged: number;
  onlyBaseline: number;
  onlyCandidate: number;
}

export interface ComparisonSummary {
  rows: number;
  counts: ComparisonCounts;
  score: PairedSummary;
  metrics: Record<string, PairedSummary>;
}

export type ComparisonOrder = 'diff' | 'diff desc' | 'index';

/** A computed comparison: per-row status and diff in columns, and views (filtered, ordered). */
export class Comparison {
  readonly status: Uint8Array;
  readonly diff: Float64Array;
  readonly summary: ComparisonSummary;
  private readonly views = new Map<string, Uint32Array>();

  constructor(readonly baseline: ComparisonSide, readonly candidate: ComparisonSide, readonly pairing: Pairing) {
    const n = pairing.baseline.length;
    this.status = new Uint8Array(n);
    this.diff = new Float64Array(n);
    const counts: ComparisonCounts = { improved: 0, regressed: 0, unchanged: 0, onlyBaseline: 0, onlyCandidate: 0 };
    for (let row = 0; row < n; row++) this.classify(row, counts);
    this.summary = { rows: n, counts, score: this.scoreSummary(), metrics: this.metricSummaries() };
  }

  private classify(row: number, counts: ComparisonCounts): void {
    const b = this.pairing.baseline[row]!;
    const c = this.pairing.candidate[row]!;
    if (b < 0 || c < 0) {
      this.status[row] = b < 0 ? STATUS_CODE.only_candidate : STATUS_CODE.only_baseline;
      this.diff[row] = NaN;
      if (b < 0) counts.onlyCandidate++;
      else counts.onlyBaseline++;
      return;
    }
    const diff = this.candidate.effectiveScore(c) - this.baseline.effectiveScore(b);
    this.diff[row] = diff;
    this.status[row] = diff < 0 ? STATUS_CODE.regressed : diff > 0 ? STATUS_CODE.improved : STATUS_CODE.unchanged;
    if (diff < 0) counts.regressed++;
    else if (diff > 0) counts.improved++;
    else counts.unchanged++;
  }

  private scoreSummary(): PairedSummary {
    return this.paired((b, c) => (this.baseline.valid[b] && this.candidate.valid[c] ? [this.baseline.score[b]!, this.candidate.score[c]!] : undefined));
  }

  private metricSummaries(): Record<string, PairedSummary> {
    const names = [...this.candidate.metrics.keys()].filter((name) => this.baseline.metrics.has(name)).sort();
    return Object.fromEntries(names.map((name) => [name, this.paired((b, c) => {
      const [x, y] = [this.baseline.metric(name, b), this.candidate.metric(name, c)];
      return Number.isFinite(x) && Number.isFinite(y) ? [x, y] : undefined;
    })]));
  }

  /** The paired statistics over the joined rows for which `pick` answers both values. */
  private paired(pick: (b: number, c: number) => [number, number] | undefined): PairedSummary {
    const base: number[] = [];
    const cand: number[] = [];
    for (let row = 0; row < this.status.length; row++) {
      const [b, c] = [this.pairing.baseline[row]!, this.pairing.candidate[row]!];
      if (b < 0 || c < 0) continue;
      const values = pick(b, c);
      if (!values) continue;
      base.push(values[0]);
      cand.push(values[1]);
    }
    return pairedSummary(Float64Array.from(base), Float64Array.from(cand));
  }

  statusOf(row: number): RowStatus {
    return ROW_STATUSES[this.status[row]!]!;
  }

  /** The compared rows with one of `statuses`, in `order`; computed once per view. */
  view(statuses: readonly RowStatus[], order: ComparisonOrder): Uint32Array {
    const wanted = new Set(statuses.length ? statuses : ROW_STATUSES);
    const key = `${[...wanted].sort().join(',')}|${order}`;
    let rows = this.views.get(key);
    if (!rows) {
      rows = this.ordered(wanted, order);
      if (this.views.size >= 8) this.views.delete(this.views.keys().next().value!);
      this.views.set(key, rows);
    }
    return rows;
  }

  /**
   * `diff`: regressions first (most negative first), then unchanged, then improvements, then the
   * rows only one side has; ties by the candidate's (else the baseline's) row index. `index`:
   * the candidate's rows by index, then the rows only the baseline has by index, which is the
   * order pairing made them in; so only the rows that moved are ever sorted.
   */
  private ordered(wanted: Set<RowStatus>, order: ComparisonOrder): Uint32Array {
    if (order === 'index') {
      const rows: number[] = [];
      for (let row = 0; row < this.status.length; row++) if (wanted.has(this.statusOf(row))) rows.push(row);
      return Uint32Array.from(rows);
    }
    const groups = new Map<number, number[]>(ROW_STATUSES.map((s) => [STATUS_CODE[s], []]));
    for (let row = 0; row < this.status.length; row++) if (wanted.has(this.statusOf(row))) groups.get(this.status[row]!)!.push(row);
    const byIndex = (a: number, b: number) => this.indexOf(a) - this.indexOf(b);
    const sign = order === 'diff' ? 1 : -1;
    const moved = (rows: number[]) => Uint32Array.from(rows).sort((a, b) => sign * (this.diff[a]! - this.diff[b]!) || byIndex(a, b));
    const sequence = order === 'diff' ? ['regressed', 'unchanged', 'improved'] : ['improved', 'unchanged', 'regressed'];
    const parts = sequence.map((s) => (s === 'unchanged' ? groups.get(STATUS_CODE.unchanged)! : moved(groups.get(STATUS_CODE[s as RowStatus])!)));
    parts.push(groups.get(STATUS_CODE.only_baseline)!, groups.get(STATUS_CODE.only_candidate)!);
    const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) for (const row of part) out[at++] = row;
    return out;
  }

  private indexOf(row: number): number {
    const c = this.pairing.candidate[row]!;
    return c >= 0 ? this.candidate.idx[c]! : this.baseline.idx[this.pairing.baseline[row]!]!;
  }
}
