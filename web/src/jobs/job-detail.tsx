import { useState } from 'react';
import { idOf, type Api, type Job } from '../api.js';
import { JobCompare } from '../compare.js';
import { ErrorBox, Link, StateBadge, fmtTime, navigate, useLoad } from '../ui.js';
import { JobMetrics } from './job-metrics.js';
import { JobProgress } from './job-progress.js';
import { isRunning } from './job-state.js';
import { Results } from './results.js';

export function JobDetail({ api, id }: { api: Api; id: string }) {
  const job = useLoad(() => api.get<Job>(`evaluationJobs/${encodeURIComponent(id)}`), [api, id], { pollMs: 1000, keepPolling: isRunning });
  const [actionError, setActionError] = useState<string>();
  const j = job.data;
  const running = j ? isRunning(j) : false;
  // While running, the results page refreshes every 3 s (the job itself every second); once at the end.
  const version = j ? `${j.state}:${running && (j.progress?.rowsDone ?? 0) > 0 ? Math.floor(Date.now() / 3000) : 'still'}` : '';

  const cancel = async () => {
    try {
      await api.post(`evaluationJobs/${encodeURIComponent(id)}:cancel`, {});
      job.reload();
    } catch (e: unknown) {
      setActionError((e as Error).message);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete job ${id}? Its output dataset stays.`)) return;
    try {
      await api.del(`evaluationJobs/${encodeURIComponent(id)}`);
      navigate('/jobs');
    } catch (e: unknown) {
      setActionError((e as Error).message);
    }
  };
  return (
    <div>
      <div className="crumbs">
        <Link to="/jobs">Jobs</Link> /
      </div>
      <div className="page-head">
        <h1>{j?.displayName || id}</h1>
        {j ? <StateBadge state={j.state} /> : null}
        <span className="spacer" />
        {running ? (
          <button type="button" onClick={cancel} disabled={j?.state === 'JOB_STATE_CANCELLING'}>
            Cancel
          </button>
        ) : null}
        <button type="button" className="danger" onClick={remove}>
          Delete
        </button>
      </div>
      <ErrorBox error={job.error ?? actionError} />
      {j ? (
        <>
          {j.status?.message ? <div className={`status ${j.state === 'JOB_STATE_FAILED' ? 'bad' : ''}`}>{j.status.message}</div> : null}
          <div className="meta small">
            Evaluator <Link to={`/evaluators/${idOf(j.evaluator)}`}>{idOf(j.evaluator)}</Link> · input <Link to={`/datasets/${idOf(j.inputDataset)}`}>{idOf(j.inputDataset)}</Link> · output{' '}
            <Link to={`/datasets/${idOf(j.outputDataset)}`}>{idOf(j.outputDataset)}</Link> · created {fmtTime(j.createTime)}
          </div>
          <JobProgress job={j} running={running} />
          <JobMetrics job={j} />
          <Results api={api} id={id} version={version} />
          {running ? null : <JobCompare api={api} id={id} />}
        </>
      ) : null}
    </div>
  );
}
