/**
 * Progress that means something for slow jobs: rows/s over the last interval (not since the
 * start, which a slow first minute or a pause skews), and the time left at that pace. The server
 * samples each job's counters when its progress is read (the CLI's --watch and the web UI poll);
 * samples are kept a minute, for running jobs only, and for a bounded number of jobs.
 */
import { isTerminal, type JobRecord } from '../domain/jobs.js';

const WINDOW_MS = 60_000;
/** Two samples closer than this say nothing about the rate yet. */
const MIN_INTERVAL_MS = 2_000;
const MAX_JOBS = 10_000;

interface Sample {
  at: number;
  rowsDone: number;
}

export class ProgressSampler {
  private readonly samples = new Map<string, Sample[]>();

  /** Rows/s between the oldest sample of the last minute and now; undefined until a 2 s interval was seen. */
  recentRate(job: JobRecord, now = Date.now()): number | undefined {
    const key = `${job.accountId}/${job.id}`;
    if (isTerminal(job.state)) {
      this.samples.delete(key);
      return undefined;
    }
    const kept = (this.samples.get(key) ?? []).filter((s) => now - s.at <= WINDOW_MS && s.rowsDone <= job.progress.rowsDone);
    const last = kept[kept.length - 1];
    if (!last || now - last.at >= 1_000) kept.push({ at: now, rowsDone: job.progress.rowsDone });
    this.samples.delete(key);
    this.samples.set(key, kept);
    if (this.samples.size > MAX_JOBS) this.samples.delete(this.samples.keys().next().value!);
    const oldest = kept[0]!;
    const span = now - oldest.at;
    return span >= MIN_INTERVAL_MS ? ((job.progress.rowsDone - oldest.rowsDone) * 1000) / span : undefined;
  }
}
