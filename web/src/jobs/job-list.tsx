import { idOf, type Api, type Job } from '../api.js';
import { ErrorBox, Link, Pager, ProgressBar, StateBadge, fmtInt, fmtTime, useLoad, usePageTokens } from '../ui.js';
import { isRunning } from './job-state.js';
import { ScoreWithCi } from './score-with-ci.js';

export function JobList({ api }: { api: Api }) {
  const pages = usePageTokens();
  const { page } = pages;
  const list = useLoad(
    () => api.get<{ evaluationJobs: Job[]; nextPageToken: string; totalSize: number }>('evaluationJobs', { orderBy: 'createTime desc', pageSize: 50, pageToken: pages.token }),
    [api, page],
    { pollMs: 1000, keepPolling: (l) => l.evaluationJobs.some(isRunning) },
  );
  return (
    <div>
      <div className="page-head">
        <h1>Evaluation jobs</h1>
        <span className="muted">{list.data ? `${fmtInt(list.data.totalSize)} jobs` : ''}</span>
        <span className="spacer" />
        <Link to="/jobs/new" className="button primary" testId="new-job">
          New job
        </Link>
      </div>
      <ErrorBox error={list.error} />
      <table className="table">
        <thead>
          <tr>
            <th>Job</th>
            <th>State</th>
            <th style={{ width: '18%' }}>Progress</th>
            <th>Score [95% CI]</th>
            <th>Evaluator</th>
            <th>Dataset</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.evaluationJobs.map((j) => (
            <tr key={j.name} data-testid="job-row">
              <td>
                <Link to={`/jobs/${idOf(j.name)}`}>{j.displayName || idOf(j.name)}</Link>
                {j.displayName && j.displayName !== idOf(j.name) ? <div className="muted small">{idOf(j.name)}</div> : null}
              </td>
              <td>
                <StateBadge state={j.state} />
              </td>
              <td>
                <ProgressBar progress={j.progress} state={j.state} />
                <div className="muted small">
                  {fmtInt(j.progress?.rowsDone)} / {fmtInt(j.progress?.rowsTotal)}
                </div>
              </td>
              <td>
                <ScoreWithCi metrics={j.metrics} />
              </td>
              <td className="small">
                <Link to={`/evaluators/${idOf(j.evaluator)}`}>{idOf(j.evaluator)}</Link>
              </td>
              <td className="small">
                <Link to={`/datasets/${idOf(j.inputDataset)}`}>{idOf(j.inputDataset)}</Link>
              </td>
              <td className="small">{fmtTime(j.createTime)}</td>
            </tr>
          ))}
          {list.data?.evaluationJobs.length === 0 ? (
            <tr>
              <td colSpan={7} className="empty">
                No jobs yet. <Link to="/jobs/new">Create one</Link>.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <Pager page={page} hasNext={!!list.data?.nextPageToken} onPrev={pages.prev} onNext={() => pages.next(list.data!.nextPageToken)} />
    </div>
  );
}
