import { describe, expect, it } from 'vitest';
import type { RowResult } from './jobs.js';
import { bootstrapCi, distributionOf, MetricsAccumulator, quantileSorted } from './metrics.js';

const result = (idx: number, score: number, extra: Partial<RowResult> = {}): RowResult => ({ idx, score, isScoreValid: true, errorKind: '', ms: 1, metrics: {}, ...extra });

describe('MetricsAccumulator', () => {
  it('computes mean, std, stderr, valid rate and named metric means over valid rows only', () => {
    const acc = new MetricsAccumulator();
    [1, 0, 1, 1].forEach((s, i) => acc.add(result(i, s, { metrics: { exact: s, len: 2 * s } })));
    acc.add(result(4, 0, { isScoreValid: false }));
    acc.add(result(5, 0, { errorKind: 'timeout' }));
    const { metrics, outputStats } = acc.finish({ wallSeconds: 2 });
    expect(metrics).toMatchObject({ row_count: 6, error_count: 1, valid_rate: 4 / 6, score: 0.75, 'metric.exact': 0.75, 'metric.len': 1.5 });
    expect(metrics['score_std']).toBeCloseTo(0.5, 12);
    expect(metrics['score_stderr']).toBeCloseTo(0.25, 12);
    expect(outputStats).toMatchObject({ rowCount: 6, validCount: 4, errorCount: 1, errorsByKind: { timeout: 1 }, rowsPerSecond: 3 });
  });

  it('has no score when no row is valid', () => {
    const acc = new MetricsAccumulator();
    acc.add(result(0, 0, { errorKind: 'crash' }));
    const { metrics } = acc.finish({ wallSeconds: 0 });
    expect(metrics).toEqual({ row_count: 1, error_count: 1, valid_rate: 0 });
  });

  it('gives the same bootstrap interval for the same scores, bracketing the mean', () => {
    const values = Float64Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const [low, high] = bootstrapCi(values, 42);
    expect(bootstrapCi(values, 42)).toEqual([low, high]);
    expect(low).toBeLessThan(1 / 3 + 0.001);
    expect(high).toBeGreaterThan(1 / 3 - 0.001);
    // The normal approximation's half-width for p=1/3, n=500 is about 0.041.
    expect(high - low).toBeGreaterThan(0.06);
    expect(high - low).toBeLessThan(0.1);
  });
});

describe('distributions', () => {
  it('interpolates quantiles and fills a 10-bin histogram with every value', () => {
    expect(quantileSorted(Float64Array.from([1, 2, 3, 4]), 0.5)).toBe(2.5);
    const d = distributionOf(Float64Array.from({ length: 101 }, (_, i) => i / 100));
    expect(d).toMatchObject({ count: 101, min: 0, max: 1, mean: 0.5 });
    expect(d.quantiles.p90).toBeCloseTo(0.9, 12);
    expect(d.histogram.reduce((n, b) => n + b.count, 0)).toBe(101);
    expect(distributionOf(Float64Array.from([0.5, 0.5])).histogram[0]!.count).toBe(2);
  });
});

describe('large samples', () => {
  it('uses the normal interval above BOOTSTRAP_MAX_ROWS, close to what the bootstrap gives', () => {
    const big = Float64Array.from({ length: 20_000 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const [low, high] = bootstrapCi(big, 7);
    const half = 1.96 * Math.sqrt(0.25 * 0.75 / 20_000);
    expect(low).toBeCloseTo(0.25 - half, 4);
    expect(high).toBeCloseTo(0.25 + half, 4);
    const small = big.subarray(0, 8_000);
    const [bLow, bHigh] = bootstrapCi(small, 7);
    const smallHalf = 1.96 * Math.sqrt(0.25 * 0.75 / 8_000);
    expect(bHigh - bLow).toBeGreaterThan(2 * smallHalf * 0.9);
    expect(bHigh - bLow).toBeLessThan(2 * smallHalf * 1.1);
  });
});
