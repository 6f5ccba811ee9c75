/**
 * A leaderboard's standings with what is significant (docs/metrics.md, "Leaderboard standings").
 *
 * - leader: the finished job with the best score.
 * - comparison with the leader: the paired test (paired-stats.ts) when the job shares rows with
 *   the leader; otherwise an unpaired normal test on the two means and their standard errors.
 * - Holm: the p-values of every comparison with the leader on one board are one family; a job
 *   is `tiedWithLeader` when its Holm-adjusted p-value is not below alpha.
 * No I/O.
 */
import type { PairedSummary } from './paired-stats.js';
import { erfc, holmAdjust } from './paired-stats.js';

export const STANDINGS_ALPHA = 0.05;

export interface StandingInput {
  jobId: string;
  displayName: string;
  metrics: Record<string, number>;
  /** The paired comparison with the leader, when the job shares rows with it. */
  paired?: PairedSummary | undefined;
}

export interface VersusLeader {
  test: PairedSummary['test'] | 'unpaired-normal';
  pairs: number;
  meanDiff: number;
  ciLow: number;
  ciHigh: number;
  pValue: number;
  pValueHolm: number;
}

export interface Standing {
  rank: number;
  jobId: string;
  displayName: string;
  score: number | undefined;
  ciLow: number | undefined;
  ciHigh: number | undefined;
  /** Undefined for the leader and for jobs without a score. */
  versusLeader: VersusLeader | undefined;
  tiedWithLeader: boolean;
}

/** `jobs` best score first (the leader first); jobs without a score rank last, untested. */
export function standingsOf(jobs: readonly StandingInput[], alpha = STANDINGS_ALPHA): Standing[] {
  const leader = jobs[0]?.metrics['score'] !== undefined ? jobs[0] : undefined;
  const tests = jobs.map((job, i) => (i === 0 || !leader || job.metrics['score'] === undefined ? undefined : versus(job, leader)));
  const tested = tests.flatMap((t, i) => (t ? [i] : []));
  const adjusted = holmAdjust(tested.map((i) => tests[i]!.pValue));
  tested.forEach((i, k) => (tests[i]!.pValueHolm = adjusted[k]!));
  return jobs.map((job, i) => {
    const test = tests[i];
    return {
      rank: i + 1, jobId: job.jobId, displayName: job.displayName,
      score: job.metrics['score'], ciLow: job.metrics['score_ci95_low'], ciHigh: job.metrics['score_ci95_high'],
      versusLeader: test, tiedWithLeader: test !== undefined && !(test.pValueHolm < alpha),
    };
  });
}

function versus(job: StandingInput, leader: StandingInput): VersusLeader {
  if (job.paired && job.paired.pairs > 0) {
    const p = job.paired;
    return { test: p.test, pairs: p.pairs, meanDiff: p.meanDiff, ciLow: p.ciLow, ciHigh: p.ciHigh, pValue: p.pValue, pValueHolm: p.pValue };
  }
  // No shared rows: the difference of two independent means, normal with variance se1^2 + se2^2.
  const diff = job.metrics['score']! - leader.metrics['score']!;
  const se = Math.hypot(job.metrics['score_stderr'] ?? 0, leader.metrics['score_stderr'] ?? 0);
  const pValue = se > 0 ? Math.min(1, erfc(Math.abs(diff) / (se * Math.SQRT2))) : diff === 0 ? 1 : 0;
  return { test: 'unpaired-normal', pairs: 0, meanDiff: diff, ciLow: diff - 1.96 * se, ciHigh: diff + 1.96 * se, pValue, pValueHolm: pValue };
}
