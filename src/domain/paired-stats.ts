/**
 * Statistics of two jobs scored over the same rows (docs/metrics.md, "Comparing jobs").
 *
 * - pair: one row's baseline score and candidate score; `diff = candidate - baseline`.
 * - paired bootstrap: resampling pairs, i.e. resampling the diffs; its 95% percentile interval of
 *   the mean diff, seeded by the diffs themselves (same data, same interval).
 * - sign test / McNemar: for pass/fail scores (every score 0 or 1) the exact two-sided binomial
 *   test on the discordant pairs (McNemar's exact test is the sign test on them).
 * - paired permutation test: otherwise, the sign-flip test of the mean diff; exact over all
 *   2^n flips when few pairs differ, Monte Carlo (seeded) when more, normal beyond that.
 * - Holm: step-down adjustment of several p-values (a leaderboard's comparisons with its leader).
 * No I/O: plain numbers in, plain numbers out.
 */
import { BOOTSTRAP_MAX_ROWS, bootstrapCi, meanAndStd, mulberry32, seedOf } from './metrics.js';

export type PairedTest = 'mcnemar-exact' | 'permutation-exact' | 'permutation-monte-carlo' | 'permutation-normal' | 'none';

export interface PairedSummary {
  pairs: number;
  baselineMean: number;
  candidateMean: number;
  /** Mean of candidate - baseline. */
  meanDiff: number;
  ciLow: number;
  ciHigh: number;
  pValue: number;
  test: PairedTest;
}

/** Sign flips enumerated exactly up to this many non-zero diffs (2^16 x 16 additions). */
export const EXACT_PERMUTATION_MAX = 16;
/** Monte Carlo sign flips; up to BOOTSTRAP_MAX_ROWS pairs, beyond which the normal test applies. */
export const PERMUTATION_RESAMPLES = 2000;

/** The paired comparison of `candidate` against `baseline` (same length, one pair per index). */
export function pairedSummary(baseline: Float64Array, candidate: Float64Array): PairedSummary {
  const n = baseline.length;
  if (n === 0) return { pairs: 0, baselineMean: NaN, candidateMean: NaN, meanDiff: NaN, ciLow: NaN, ciHigh: NaN, pValue: NaN, test: 'none' };
  const diffs = new Float64Array(n);
  for (let i = 0; i < n; i++) diffs[i] = candidate[i]! - baseline[i]!;
  const [ciLow, ciHigh] = bootstrapCi(diffs, seedOf(diffs));
  const { test, pValue } = isPassFail(baseline) && isPassFail(candidate) ? mcnemar(baseline, candidate) : permutationTest(diffs);
  return { pairs: n, baselineMean: meanAndStd(baseline).mean, candidateMean: meanAndStd(candidate).mean, meanDiff: meanAndStd(diffs).mean, ciLow, ciHigh, pValue, test };
}

function isPassFail(values: Float64Array): boolean {
  for (const v of values) if (v !== 0 && v !== 1) return false;
  return true;
}

function mcnemar(baseline: Float64Array, candidate: Float64Array): { test: PairedTest; pValue: number } {
  let regressed = 0;
  let improved = 0;
  for (let i = 0; i < baseline.length; i++) {
    if (baseline[i]! > candidate[i]!) regressed++;
    else if (baseline[i]! < candidate[i]!) improved++;
  }
  return { test: 'mcnemar-exact', pValue: binomialTwoSided(improved, improved + regressed) };
}

/** Exact sign test of paired diffs: ties dropped, two-sided binomial on the positive count. */
export function signTest(diffs: Float64Array): number {
  let positive = 0;
  let negative = 0;
  for (const d of diffs) {
    if (d > 0) positive++;
    else if (d < 0) negative++;
  }
  return binomialTwoSided(positive, positive + negative);
}

/**
 * Two-sided exact binomial test of `k` successes in `n` trials at p = 1/2: twice the smaller
 * tail, capped at 1. Summed in log space so a million trials neither underflow nor overflow.
 */
export function binomialTwoSided(k: number, n: number): number {
  if (n === 0) return 1;
  const m = Math.min(k, n - k);
  let logTerm = -n * Math.LN2; // log(C(n,0) / 2^n)
  let logTail = logTerm;
  for (let i = 0; i < m; i++) {
    logTerm += Math.log(n - i) - Math.log(i + 1);
    logTail = logAddExp(logTail, logTerm);
  }
  return Math.min(1, 2 * Math.exp(logTail));
}

function logAddExp(a: number, b: number): number {
  const high = Math.max(a, b);
  return high + Math.log(Math.exp(a - high) + Math.exp(b - high));
}

/**
 * Sign-flip permutation test of the mean diff (two-sided, statistic |sum of diffs|). Zero diffs
 * do not change under a flip, so only the non-zero ones count towards "few enough for exact".
 */
export function permutationTest(diffs: Float64Array): { test: PairedTest; pValue: number } {
  const nonZero = diffs.filter((d) => d !== 0);
  if (nonZero.length === 0) return { test: 'permutation-exact', pValue: 1 };
  const observed = Math.abs(sum(nonZero));
  // Sums equal up to rounding must count as "as extreme": compare with a relative tolerance.
  const atLeast = (s: number) => Math.abs(s) >= observed * (1 - 1e-12);
  if (nonZero.length <= EXACT_PERMUTATION_MAX) {
    let hits = 0;
    const total = 2 ** nonZero.length;
    for (let mask = 0; mask < total; mask++) {
      let s = 0;
      for (let i = 0; i < nonZero.length; i++) s += mask & (1 << i) ? -nonZero[i]! : nonZero[i]!;
      if (atLeast(s)) hits++;
    }
    return { test: 'permutation-exact', pValue: hits / total };
  }
  if (nonZero.length <= BOOTSTRAP_MAX_ROWS) {
    const random = mulberry32(seedOf(nonZero));
    let hits = 0;
    for (let r = 0; r < PERMUTATION_RESAMPLES; r++) {
      let s = 0;
      for (const d of nonZero) s += random() < 0.5 ? -d : d;
      if (atLeast(s)) hits++;
    }
    // The observed assignment counts as one of the permutations (never a p-value of 0).
    return { test: 'permutation-monte-carlo', pValue: (hits + 1) / (PERMUTATION_RESAMPLES + 1) };
  }
  // Under the null the sum of randomly signed diffs has mean 0 and variance sum(d^2); by a
  // million pairs it is normal well within the Monte Carlo's own noise.
  let squares = 0;
  for (const d of nonZero) squares += d * d;
  return { test: 'permutation-normal', pValue: Math.min(1, erfc(observed / Math.sqrt(2 * squares))) };
}

function sum(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** Complementary error function (Numerical Recipes' erfcc: relative error under 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
}

/**
 * Holm's step-down adjustment: sort ascending, multiply the i-th smallest (from 0) by (m - i),
 * keep them non-decreasing, cap at 1. Answers adjusted p-values in the input's order.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
