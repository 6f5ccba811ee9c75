/**
 * The metrics of a job with a rollout step (docs/metrics.md, "Rollouts"), from the per-row
 * results as they are stored: tokens, rollout latency, rollouts errored, and across the job's
 * runs the mean score of each run, their spread, and pass@1..k.
 */
import type { RowResult } from './jobs.js';
import { meanAndStd, quantileSorted } from './metrics.js';
import { passAtK } from './rollout.js';

export class RolloutAccumulator {
  private promptTokens = 0;
  private completionTokens = 0;
  private errored = 0;
  private latencies = new Float64Array(1024);
  private latencyCount = 0;
  private readonly runSums: number[];
  private readonly runCounts: number[];
  /** Per input row: runs seen and runs passed (a cancelled job may hold rows without all runs). */
  private seen = new Uint16Array(1024);
  private passed = new Uint16Array(1024);

  constructor(private readonly numRuns: number, private readonly passThreshold: number) {
    this.runSums = new Array<number>(numRuns).fill(0);
    this.runCounts = new Array<number>(numRuns).fill(0);
  }

  add(result: RowResult): void {
    const stat = result.rollout;
    if (!stat) return;
    this.promptTokens += stat.promptTokens;
    this.completionTokens += stat.completionTokens;
    if (stat.failed) this.errored++;
    else this.pushLatency(stat.latencyMs);
    const valid = result.isScoreValid && result.errorKind === '' && Number.isFinite(result.score);
    if (valid && stat.run < this.numRuns) {
      this.runSums[stat.run]! += result.score;
      this.runCounts[stat.run]!++;
    }
    const input = Math.floor(result.idx / this.numRuns);
    this.grow(input);
    this.seen[input]!++;
    if (valid && result.score >= this.passThreshold) this.passed[input]!++;
  }

  finish(): Record<string, number> {
    const metrics: Record<string, number> = {
      rollout_prompt_tokens: this.promptTokens,
      rollout_completion_tokens: this.completionTokens,
      rollout_total_tokens: this.promptTokens + this.completionTokens,
      rollout_error_count: this.errored,
      num_runs: this.numRuns,
    };
    if (this.latencyCount > 0) {
      const sorted = this.latencies.slice(0, this.latencyCount).sort();
      metrics['rollout_latency_p50_ms'] = quantileSorted(sorted, 0.5);
      metrics['rollout_latency_p95_ms'] = quantileSorted(sorted, 0.95);
    }
    const runMeans: number[] = [];
    for (let run = 0; run < this.numRuns; run++) {
      if (this.runCounts[run]! === 0) continue;
      metrics[`score_run_${run}`] = this.runSums[run]! / this.runCounts[run]!;
      runMeans.push(metrics[`score_run_${run}`]!);
    }
    if (runMeans.length > 1) metrics['score_run_std'] = meanAndStd(Float64Array.from(runMeans)).std;
    Object.assign(metrics, this.passRates());
    return metrics;
  }

  /** pass@1..k, the mean over input rows that have all their runs. */
  private passRates(): Record<string, number> {
    const sums = new Array<number>(this.numRuns).fill(0);
    let rows = 0;
    for (let i = 0; i < this.seen.length; i++) {
      if (this.seen[i] !== this.numRuns) continue;
      rows++;
      for (let k = 1; k <= this.numRuns; k++) sums[k - 1]! += passAtK(this.numRuns, this.passed[i]!, k);
    }
    if (rows === 0) return {};
    return Object.fromEntries(sums.map((sum, i) => [`pass@${i + 1}`, sum / rows]));
  }

  private pushLatency(ms: number): void {
    if (this.latencyCount === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.latencyCount++] = ms;
  }

  private grow(input: number): void {
    if (input < this.seen.length) return;
    let size = this.seen.length;
    while (size <= input) size *= 2;
    const [seen, passed] = [new Uint16Array(size), new Uint16Array(size)];
    seen.set(this.seen);
    passed.set(this.passed);
    [this.seen, this.passed] = [seen, passed];
  }
}
