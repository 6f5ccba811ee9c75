import { describe, expect, it } from 'vitest';
import { pairedSummary, erfc } from './paired-stats.js';
import { standingsOf } from './standings.js';

const metrics = (score: number, stderr: number) => ({ score, score_stderr: stderr, score_ci95_low: score - 1.96 * stderr, score_ci95_high: score + 1.96 * stderr });

describe('leaderboard standings', () => {
  it('tests every job against the leader, paired where it can, and Holm-adjusts the family', () => {
    const leaderScores = Float64Array.from({ length: 30 }, (_, i) => (i < 25 ? 1 : 0));
    const close = Float64Array.from({ length: 30 }, (_, i) => (i < 24 ? 1 : 0));
    const far = Float64Array.from({ length: 30 }, (_, i) => (i < 5 ? 1 : 0));
    const pClose = pairedSummary(leaderScores, close);
    const pFar = pairedSummary(leaderScores, far);
    const standings = standingsOf([
      { jobId: 'lead', displayName: 'lead', metrics: metrics(25 / 30, 0.07) },
      { jobId: 'close', displayName: 'close', metrics: metrics(24 / 30, 0.07), paired: pClose },
      { jobId: 'far', displayName: 'far', metrics: metrics(5 / 30, 0.07), paired: pFar },
      { jobId: 'other', displayName: 'other', metrics: metrics(0.5, 0.05) },
      { jobId: 'none', displayName: 'none', metrics: {} },
    ]);
    expect(standings.map((s) => [s.rank, s.jobId, s.tiedWithLeader])).toEqual([[1, 'lead', false], [2, 'close', true], [3, 'far', false], [4, 'other', false], [5, 'none', false]]);
    expect(standings[0]!.versusLeader).toBeUndefined();
    expect(standings[4]!.versusLeader).toBeUndefined();
    expect(standings[1]!.versusLeader).toMatchObject({ test: 'mcnemar-exact', pairs: 30, pValue: pClose.pValue });
    // Unpaired: z = diff / sqrt(se1^2 + se2^2).
    const unpaired = erfc(Math.abs(0.5 - 25 / 30) / (Math.hypot(0.05, 0.07) * Math.SQRT2));
    expect(standings[3]!.versusLeader).toMatchObject({ test: 'unpaired-normal', pairs: 0 });
    expect(standings[3]!.versusLeader!.pValue).toBeCloseTo(unpaired, 12);
    // Holm over the three tests, by hand.
    const ps = [pClose.pValue, pFar.pValue, unpaired];
    const sorted = [...ps].sort((a, b) => a - b);
    const holm = sorted.map((p, i) => Math.min(1, (3 - i) * p));
    for (let i = 1; i < 3; i++) holm[i] = Math.max(holm[i]!, holm[i - 1]!);
    const holmOf = (p: number) => holm[sorted.indexOf(p)]!;
    expect(standings.slice(1, 4).map((s) => s.versusLeader!.pValueHolm)).toEqual(ps.map(holmOf));
  });

  it('has no leader when the best job has no score', () => {
    expect(standingsOf([{ jobId: 'a', displayName: 'a', metrics: {} }]).map((s) => s.versusLeader)).toEqual([undefined]);
    expect(standingsOf([])).toEqual([]);
  });
});
