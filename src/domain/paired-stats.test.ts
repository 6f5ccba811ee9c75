import { describe, expect, it } from 'vitest';
import { bootstrapCi, mulberry32, seedOf } from './metrics.js';
import { binomialTwoSided, erfc, holmAdjust, pairedSummary, permutationTest, signTest } from './paired-stats.js';

const f64 = (values: number[]) => Float64Array.from(values);

/** C(n, k) / 2^n summed directly, for small n. */
function directBinomialTwoSided(k: number, n: number): number {
  const choose = (a: number, b: number) => { let c = 1; for (let i = 0; i < b; i++) c = (c * (a - i)) / (i + 1); return c; };
  let tail = 0;
  for (let i = 0; i <= Math.min(k, n - k); i++) tail += choose(n, i);
  return Math.min(1, (2 * tail) / 2 ** n);
}

describe('exact binomial (sign test, McNemar)', () => {
  it('matches the direct sum of binomial coefficients', () => {
    expect(binomialTwoSided(2, 10)).toBeCloseTo(112 / 1024, 14);
    for (const [k, n] of [[0, 1], [3, 7], [9, 20], [15, 30], [1, 25]] as const) expect(binomialTwoSided(k, n)).toBeCloseTo(directBinomialTwoSided(k, n), 12);
    expect(binomialTwoSided(5, 10)).toBe(1);
    expect(binomialTwoSided(0, 0)).toBe(1);
  });

  it('stays finite and exact in log space at a thousand and a million trials', () => {
    expect(binomialTwoSided(0, 1000) / (2 * 2 ** -1000)).toBeCloseTo(1, 9);
    const p = binomialTwoSided(499_000, 1_000_000); // z = 2: about 0.0455
    expect(p).toBeGreaterThan(0.044);
    expect(p).toBeLessThan(0.047);
  });

  it('sign test drops ties and tests the positive count', () => {
    expect(signTest(f64([1, 2, 0, 0, -1, 3, 0.5, 0.1, 2, 4]))).toBeCloseTo(directBinomialTwoSided(1, 8), 14);
  });

  it('McNemar on pass/fail pairs counts only the discordant ones', () => {
    // 9 rows improved (0 -> 1), 1 regressed (1 -> 0), 20 unchanged.
    const baseline = f64([...Array(9).fill(0), 1, ...Array(10).fill(1), ...Array(10).fill(0)]);
    const candidate = f64([...Array(9).fill(1), 0, ...Array(10).fill(1), ...Array(10).fill(0)]);
    const summary = pairedSummary(baseline, candidate);
    expect(summary.test).toBe('mcnemar-exact');
    expect(summary.pValue).toBeCloseTo(22 / 1024, 14);
    expect(summary.meanDiff).toBeCloseTo(8 / 30, 14);
    expect(summary).toMatchObject({ pairs: 30 });
    expect(summary.baselineMean).toBeCloseTo(11 / 30, 14);
  });
});

describe('paired permutation test', () => {
  it('enumerates every sign flip when few diffs are non-zero', () => {
    expect(permutationTest(f64([1, 2, 3, 0, 0]))).toEqual({ test: 'permutation-exact', pValue: 2 / 8 });
    const diffs = Array.from({ length: 12 }, (_, i) => ((i * 7919) % 13) / 10 - 0.4).filter((d) => d !== 0);
    const observed = Math.abs(diffs.reduce((a, b) => a + b, 0));
    let hits = 0;
    for (let mask = 0; mask < 2 ** diffs.length; mask++) {
      const s = diffs.reduce((acc, d, i) => acc + (mask & (1 << i) ? -d : d), 0);
      if (Math.abs(s) >= observed - 1e-9) hits++;
    }
    expect(permutationTest(f64(diffs)).pValue).toBeCloseTo(hits / 2 ** diffs.length, 12);
  });

  it('samples flips reproducibly when more differ, close to the normal approximation', () => {
    const random = mulberry32(11);
    const diffs = f64(Array.from({ length: 400 }, () => random() - 0.45));
    const first = permutationTest(diffs);
    expect(permutationTest(diffs)).toEqual(first);
    expect(first.test).toBe('permutation-monte-carlo');
    const s = diffs.reduce((a, b) => a + b, 0);
    const normal = erfc(Math.abs(s) / Math.sqrt(2 * diffs.reduce((a, d) => a + d * d, 0)));
    expect(Math.abs(first.pValue - normal)).toBeLessThan(0.03);
  });

  it('uses the normal approximation of the sign-flip sum for very many pairs', () => {
    const diffs = f64(Array.from({ length: 20_000 }, (_, i) => (i % 2 ? 0.3 : -0.29)));
    const s = 10_000 * 0.3 - 10_000 * 0.29;
    const squares = 10_000 * 0.09 + 10_000 * 0.29 ** 2;
    const result = permutationTest(diffs);
    expect(result.test).toBe('permutation-normal');
    expect(result.pValue).toBeCloseTo(erfc(s / Math.sqrt(2 * squares)), 10);
  });

  it('is 1 when nothing changed', () => {
    expect(pairedSummary(f64([0.5, 0.2]), f64([0.5, 0.2]))).toMatchObject({ meanDiff: 0, pValue: 1, ciLow: 0, ciHigh: 0 });
  });
});

describe('paired bootstrap interval', () => {
  it('is the bootstrap of the diffs, seeded by them, and brackets the mean diff', () => {
    const random = mulberry32(3);
    const baseline = f64(Array.from({ length: 300 }, () => random()));
    const candidate = baseline.map((b) => Math.min(1, b + 0.05 + (random() - 0.5) * 0.1));
    const summary = pairedSummary(baseline, candidate);
    const diffs = candidate.map((c, i) => c - baseline[i]!);
    expect([summary.ciLow, summary.ciHigh]).toEqual(bootstrapCi(diffs, seedOf(diffs)));
    expect(summary.ciLow).toBeLessThan(summary.meanDiff);
    expect(summary.ciHigh).toBeGreaterThan(summary.meanDiff);
    expect(summary.pValue).toBeLessThan(0.001);
    expect(pairedSummary(baseline, candidate)).toEqual(summary);
  });
});

describe('Holm adjustment', () => {
  it('multiplies the i-th smallest by m - i, keeps the order monotone, caps at 1', () => {
    expect(holmAdjust([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
    expect(holmAdjust([0.5, 0.6])).toEqual([1, 1]);
    expect(holmAdjust([])).toEqual([]);
  });
});

describe('erfc', () => {
  it('matches tabulated values', () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1)).toBeCloseTo(0.157299207, 7);
    expect(erfc(-1)).toBeCloseTo(1.842700793, 7);
    expect(erfc(3) / 2.209049699858544e-5).toBeCloseTo(1, 5);
  });
});
