/**
 * The wall-clock time per row this worker has seen of each job's chunks (scoring time / rows,
 * so rows scored concurrently count as fast as they really are). Smoothed, and forgotten for the
 * least recent jobs beyond a cap, so a long-lived worker holds a bounded map.
 */
const MAX_JOBS = 1000;
/** Weight of the newest chunk: pace changes (a slow stretch of rows) show within a few chunks. */
const NEWEST_WEIGHT = 0.5;

export class JobPace {
  private readonly msPerRow = new Map<string, number>();

  observe(jobKey: string, rows: number, ms: number): void {
    if (rows <= 0) return;
    const seen = ms / rows;
    const before = this.msPerRow.get(jobKey);
    this.msPerRow.delete(jobKey); // re-inserted last: the map's order is least recently seen first
    this.msPerRow.set(jobKey, before === undefined ? seen : before * (1 - NEWEST_WEIGHT) + seen * NEWEST_WEIGHT);
    if (this.msPerRow.size > MAX_JOBS) this.msPerRow.delete(this.msPerRow.keys().next().value!);
  }

  wallMsPerRow(jobKey: string): number | undefined {
    return this.msPerRow.get(jobKey);
  }
}

export const jobKeyOf = (job: { accountId: string; id: string }): string => `${job.accountId}/${job.id}`;
