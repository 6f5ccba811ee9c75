/**
 * Job metrics and output stats, computed from the stored per-row results (docs/metrics.md).
 *
 * metrics (numbers):
 *   score            mean of valid scores (rows with is_score_valid and no error)
 *   score_std        sample standard deviation of valid scores
 *   score_stderr     score_std / sqrt(n)
 *   score_ci95_low, score_ci95_high
 *                    percentile bootstrap (2,000 resamples) of the mean, seeded by the scores
 *                    themselves, so the same results always give the same interval (a job that
 *                    resumed after a crash reports exactly what an uninterrupted run would)
 *   valid_rate       valid rows / all rows
 *   row_count, error_count
 *   metric.<name>    mean of each named metric's valid scores
 */
import type { RowResult } from './jobs.js';

export interface MetricsOutput {
  metrics: Record<string, number>;
  outputStats: OutputStats;
}

export interface Distribution {
  count: number;
  mean: number;
  min: number;
  max: number;
  quantiles: Record<'p01' | 'p05' | 'p10' | 'p25' | 'p50' | 'p75' | 'p90' | 'p95' | 'p99', number>;
  /** 10 equal-width bins between min and max. */
  histogram: { low: number; high: number; count: number }[];
}

export interface OutputStats {
  rowCount: number;
  validCount: number;
  errorCount: number;
  score: Distribution | null;
  metrics: Record<string, Distribution>;
  errorsByKind: Record<string, number>;
  rowMs: Distribution | null;
  /** Seconds from the first lease to the last chunk, and rows per second over it. */
  wallSeconds: number;
  rowsPerSecond: number;
}

const BOOTSTRAP_RESAMPLES = 2000;
/** Above this many valid rows the interval is the normal one (see bootstrapCi). */
export const BOOTSTRAP_MAX_ROWS = 10_000;

/** Collects results one at a time so a million rows cost a few typed arrays, not objects. */
export class MetricsAccumulator {
  private readonly scores = new GrowableArray();
  private readonly ms = new GrowableArray();
  private readonly named = new Map<string, GrowableArray>();
  private readonly errors = new Map<string, number>();
  private rows = 0;

  add(result: RowResult): void {
    this.rows++;
    this.ms.push(result.ms);
    if (result.errorKind) {
      this.errors.set(result.errorKind, (this.errors.get(result.errorKind) ?? 0) + 1);
      return;
    }
    if (result.isScoreValid && Number.isFinite(result.score)) this.scores.push(result.score);
    for (const [name, value] of Object.entries(result.metrics)) {
      if (!Number.isFinite(value)) continue;
      let values = this.named.get(name);
      if (!values) this.named.set(name, (values = new GrowableArray()));
      values.push(value);
    }
  }

  finish({ wallSeconds }: { wallSeconds: number }): MetricsOutput {
    const scores = this.scores.values();
    const errorCount = [...this.errors.values()].reduce((a, b) => a + b, 0);
    const metrics: Record<string, number> = { row_count: this.rows, error_count: errorCount, valid_rate: this.rows ? scores.length / this.rows : 0 };
    if (scores.length > 0) {
      const { mean, std } = meanAndStd(scores);
      const [low, high] = bootstrapCi(scores, seedOf(scores));
      Object.assign(metrics, { score: mean, score_std: std, score_stderr: std / Math.sqrt(scores.length), score_ci95_low: low, score_ci95_high: high });
    }
    const named: Record<string, Distribution> = {};
    for (const [name, values] of [...this.named].sort(([a], [b]) => a.localeCompare(b))) {
      const distribution = distributionOf(values.values());
      named[name] = distribution;
      metrics[`metric.${name}`] = distribution.mean;
    }
    const rowMs = this.ms.values();
    return {
      metrics,
      outputStats: {
        rowCount: this.rows,
        validCount: scores.length,
        errorCount,
        score: scores.length ? distributionOf(scores) : null,
        metrics: named,
        errorsByKind: Object.fromEntries([...this.errors].sort(([a], [b]) => a.localeCompare(b))),
        rowMs: rowMs.length ? distributionOf(rowMs) : null,
        wallSeconds,
        rowsPerSecond: wallSeconds > 0 ? this.rows / wallSeconds : 0,
      },
    };
  }
}

export function meanAndStd(values: Float64Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, std: values.length > 1 ? Math.sqrt(squares / (values.length - 1)) : 0 };
}

/** Percentile bootstrap of the mean, with a deterministic generator seeded by `seed`. */
export function bootstrapCi(values: Float64Array, seed: string | number, resamples = BOOTSTRAP_RESAMPLES): [number, number] {
  if (values.length === 1) return [values[0]!, values[0]!];
  const random = mulberry32(typeof seed === 'number' ? seed : hashSeed(seed));
  const means = new Float64Array(resamples);
  const n = values.length;
  // The bootstrap costs 2,000 x n draws (over a second at 100,000 rows). Where it earns that, on
  // small or skewed samples, n is small; by 10,000 rows the sampling distribution of a mean of
  // bounded scores is normal to well within the interval's own noise, so use that.
  if (n > BOOTSTRAP_MAX_ROWS) {
    const { mean, std } = meanAndStd(values);
    const half = 1.96 * (std / Math.sqrt(n));
    return [mean - half, mean + half];
  }
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    means[r] = sum / n;
  }
  means.sort();
  return [quantileSorted(means, 0.025), quantileSorted(means, 0.975)];
}

export function distributionOf(values: Float64Array): Distribution {
  const sorted = Float64Array.from(values).sort();
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  const q = (p: number) => quantileSorted(sorted, p);
  const width = (max - min) / 10;
  const histogram = Array.from({ length: 10 }, (_, i) => ({ low: min + i * width, high: i === 9 ? max : min + (i + 1) * width, count: 0 }));
  for (const v of sorted) histogram[width === 0 ? 0 : Math.min(9, Math.floor((v - min) / width))]!.count++;
  return {
    count: sorted.length,
    mean: meanAndStd(sorted).mean,
    min,
    max,
    quantiles: { p01: q(0.01), p05: q(0.05), p10: q(0.1), p25: q(0.25), p50: q(0.5), p75: q(0.75), p90: q(0.9), p95: q(0.95), p99: q(0.99) },
    histogram,
  };
}

/** Linear interpolation between closest ranks (the "R-7" definition). */
export function quantileSorted(sorted: Float64Array, p: number): number {
  const position = (sorted.length - 1) * p;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

/** FNV-1a over the scores' bytes: the bootstrap's seed is a function of the data alone. */
export function seedOf(values: Float64Array): number {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 16777619);
  return h >>> 0;
}

export function hashSeed(seed: string): number {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function mulberry32(state: number): () => number {
  let a = state;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class GrowableArray {
  private data = new Float64Array(1024);
  private length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
