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
        <span>{fmtNum(j.progress?.rowsPerSecond, 1)} rows/s</span>
        {running ? <span>{fmtDuration(j.progress?.estimatedSecondsLeft)} left</span> : null}
      </div>
    </section>
  );
}
