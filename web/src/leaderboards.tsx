import { useState, type FormEvent } from 'react';
import { idOf, type Api, type Job, type Leaderboard } from './api.js';
import { CiChart } from './charts.js';
import { ScoreWithCi } from './jobs.js';
import { VersusLeader, useStandings } from './standings.js';
import { ErrorBox, Link, Pager, StateBadge, fmtInt, fmtTime, useLoad, usePageTokens } from './ui.js';

export function LeaderboardList({ api }: { api: Api }) {
  const list = useLoad(() => api.listAll<Leaderboard>('leaderboards', 'leaderboards', { orderBy: 'createTime desc' }), [api]);
  const [id, setId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string>();
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      await api.post('leaderboards', { leaderboard: { displayName: displayName.trim() || id.trim() }, ...(id.trim() ? { leaderboardId: id.trim() } : {}) });
      setId('');
      setDisplayName('');
      list.reload();
    } catch (e: unknown) {
      setError((e as Error).message);
    }
  };
  return (
    <div>
      <div className="page-head">
        <h1>Leaderboards</h1>
      </div>
      <form className="card inline-form" onSubmit={create}>
        <div className="row">
          <label>
            Leaderboard id
            <input value={id} onChange={(e) => setId(e.target.value)} placeholder="optional" />
          </label>
          <label>
            Display name
            <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
          </label>
          <button type="submit" className="primary">
            Create leaderboard
          </button>
        </div>
        <ErrorBox error={error} />
      </form>
      <ErrorBox error={list.error} />
      <table className="table">
        <thead>
          <tr>
            <th>Leaderboard</th>
            <th className="num">Jobs</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.map((b) => (
            <tr key={b.name}>
              <td>
                <Link to={`/leaderboards/${idOf(b.name)}`}>{b.displayName || idOf(b.name)}</Link>
                {b.description ? <div className="muted small">{b.description}</div> : null}
              </td>
              <td className="num">{fmtInt(b.jobCount)}</td>
              <td className="small">{fmtTime(b.createTime)}</td>
            </tr>
          ))}
          {list.data?.length === 0 ? (
            <tr>
              <td colSpan={3} className="empty">
                No leaderboards yet. Add jobs to one when you create them.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

export function LeaderboardDetail({ api, id }: { api: Api; id: string }) {
  const board = useLoad(() => api.get<{ leaderboard: Leaderboard }>(`leaderboards/${encodeURIComponent(id)}`), [api, id]);
  const pages = usePageTokens();
  const { page } = pages;
  const jobs = useLoad(
    () => api.get<{ evaluationJobs: Job[]; nextPageToken: string }>(`leaderboards/${encodeURIComponent(id)}:listEvaluationJobs`, { pageSize: 50, pageToken: pages.token }),
    [api, id, page],
    { pollMs: 2000, keepPolling: (l) => l.evaluationJobs.some((j) => j.metrics?.['score'] === undefined && !['JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'].includes(j.state)) },
  );
  const b = board.data?.leaderboard;
  const ranked = jobs.data?.evaluationJobs ?? [];
  const scored = ranked.filter((j) => j.metrics?.['score'] !== undefined);
  const standings = useStandings(api, id, ranked.map((j) => `${j.name}:${j.state}`).join());
  return (
    <div>
      <div className="crumbs">
        <Link to="/leaderboards">Leaderboards</Link> /
      </div>
      <div className="page-head">
        <h1>{b?.displayName || id}</h1>
      </div>
      {b?.description ? <p className="muted">{b.description}</p> : null}
      <ErrorBox error={board.error ?? jobs.error} />
      <table className="table leaderboard" data-testid="leaderboard">
        <thead>
          <tr>
            <th className="num">Rank</th>
            <th>Job</th>
            <th>State</th>
            <th>Score [95% CI]</th>
            <th>vs leader</th>
            <th className="num">Rows</th>
            <th>Evaluator</th>
            <th>Dataset</th>
          </tr>
        </thead>
        <tbody>
          {ranked.map((j, i) => (
            <tr key={j.name}>
              <td className="num">{page * 50 + i + 1}</td>
              <td>
                <Link to={`/jobs/${idOf(j.name)}`}>{j.displayName || idOf(j.name)}</Link>
              </td>
              <td>
                <StateBadge state={j.state} />
              </td>
              <td>
                <ScoreWithCi metrics={j.metrics} />
              </td>
              <td>
                <VersusLeader standing={standings.get(j.name)} rank={page * 50 + i + 1} />
              </td>
              <td className="num">{fmtInt(j.metrics?.['row_count'])}</td>
              <td className="small">{idOf(j.evaluator)}{j.evaluatorVersion ? <span className="muted" data-testid="evaluator-version"> @{j.evaluatorVersion}</span> : null}</td>
              <td className="small">{idOf(j.inputDataset)}</td>
            </tr>
          ))}
          {jobs.data && ranked.length === 0 ? (
            <tr>
              <td colSpan={8} className="empty">
                No jobs on this leaderboard yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <Pager page={page} hasNext={!!jobs.data?.nextPageToken} onPrev={pages.prev} onNext={() => pages.next(jobs.data!.nextPageToken)} />
      {scored.length ? (
        <section>
          <h2>Scores with 95% confidence intervals</h2>
          <div className="ci-wrap">
            <div className="ci-labels">
              {scored.map((j) => (
                <div key={j.name} className="ci-label ellipsis">
                  {j.displayName || idOf(j.name)}
                </div>
              ))}
            </div>
            <CiChart
              rows={scored.map((j) => ({
                label: j.displayName || idOf(j.name),
                score: j.metrics!['score']!,
                low: j.metrics!['score_ci95_low'] ?? j.metrics!['score']!,
                high: j.metrics!['score_ci95_high'] ?? j.metrics!['score']!,
              }))}
            />
          </div>
        </section>
      ) : null}
    </div>
  );
}
