import { parseStats, type Job } from '../api.js';
import { Histogram } from '../charts.js';
import { fmtInt, fmtNum, fmtPct } from '../ui.js';
import { RolloutStats } from './rollout-view.js';

/** The job's metrics once it has any: headline figures, the score histogram, per-metric means (a job whose every row errored has no score, but its errors are shown). */
export function JobMetrics({ job: j }: { job: Job }) {
  const stats = parseStats(j);
  const m = j.metrics ?? {};
  const metricNames = [...new Set([...Object.keys(m).filter((k) => k.startsWith('metric.')).map((k) => k.slice(7)), ...Object.keys(stats?.metrics ?? {})])].sort();
  if (m['score'] === undefined && m['row_count'] === undefined) return null;
  return (
    <>
      <div className="stats" data-testid="metrics">
        <div className="stat">
          <div className="stat-label">Score</div>
          <div className="stat-value" data-testid="metric-score">
            {fmtNum(m['score'])}
          </div>
          {m['score'] === undefined ? (
            <div className="muted small">no row was scored</div>
          ) : (
            <div className="muted small" data-testid="metric-ci">
              95% CI [{fmtNum(m['score_ci95_low'])}, {fmtNum(m['score_ci95_high'])}]
            </div>
          )}
        </div>
        <RolloutStats metrics={m} />
        <div className="stat">
          <div className="stat-label">Valid rate</div>
          <div className="stat-value">{fmtPct(m['valid_rate'])}</div>
        </div>
        <div className="stat">
          <div className="stat-label">Rows</div>
          <div className="stat-value">{fmtInt(m['row_count'])}</div>
        </div>
        <div className="stat">
          <div className="stat-label">Errors</div>
          <div className="stat-value">{fmtInt(m['error_count'])}</div>
          {stats?.errorsByKind && Object.keys(stats.errorsByKind).length ? (
            <div className="muted small">
              {Object.entries(stats.errorsByKind)
                .map(([k, n]) => `${k}: ${n}`)
                .join(', ')}
            </div>
          ) : null}
        </div>
      </div>
      <div className="two-col">
        <section>
          <h2>Score distribution</h2>
          <Histogram bins={stats?.score?.histogram ?? []} />
        </section>
        <section>
          <h2>Metrics</h2>
          {metricNames.length === 0 ? (
            <p className="muted">No per-metric scores.</p>
          ) : (
            <table className="table compact" data-testid="metric-means">
              <thead>
                <tr>
                  <th>Metric</th>
                  <th className="num">Mean</th>
                  <th className="num">Min</th>
                  <th className="num">Max</th>
                  <th className="num">Rows</th>
                </tr>
              </thead>
              <tbody>
                {metricNames.map((name) => {
                  const d = stats?.metrics?.[name];
                  return (
                    <tr key={name}>
                      <td className="mono">{name}</td>
                      <td className="num">{fmtNum(m[`metric.${name}`] ?? d?.mean)}</td>
                      <td className="num">{fmtNum(d?.min)}</td>
                      <td className="num">{fmtNum(d?.max)}</td>
                      <td className="num">{fmtInt(d?.count)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </>
  );
}
