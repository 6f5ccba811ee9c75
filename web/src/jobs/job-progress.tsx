import type { Job } from '../api.js';
import { ProgressBar, fmtDuration, fmtInt, fmtNum } from '../ui.js';

export function JobProgress({ job: j, running }: { job: Job; running: boolean }) {
  return (
    <section className="card" data-testid="progress">
      <ProgressBar progress={j.progress} state={j.state} />
      <div className="progress-facts">
        <span>
          <strong data-testid="rows-done">{fmtInt(j.progress?.rowsDone)}</strong> / {fmtInt(j.progress?.rowsTotal)} rows
        </span>
        <span>{fmtInt(j.progress?.rowsErrored)} errored</span>
        {j.progress?.rolloutsDone ? <span data-testid="rollouts-done">{fmtInt(j.progress.rolloutsDone)} rollouts</span> : null}
        {j.progress?.rowsCached ? <span data-testid="rows-cached">{fmtInt(j.progress.rowsCached)} from the score cache</span> : null}
        {running && j.progress?.rowsInFlight !== undefined ? <span data-testid="rows-in-flight">{fmtInt(j.progress.rowsInFlight)} in flight</span> : null}
        {/* While it runs, the recent pace says more than the average since the start. */}
        <span>{fmtNum(running ? (j.progress?.recentRowsPerSecond ?? j.progress?.rowsPerSecond) : j.progress?.rowsPerSecond, 1)} rows/s</span>
        {running ? <span>{fmtDuration(j.progress?.estimatedSecondsLeft)} left</span> : null}
      </div>
    </section>
  );
}
