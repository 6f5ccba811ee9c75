import { useState, type FormEvent } from 'react';
import { TERMINAL_JOB_STATES, idOf, parseStats, type Api, type Dataset, type Evaluator, type Job, type Leaderboard, type Result } from './api.js';
import { Histogram } from './charts.js';
import { JobCompare } from './compare.js';
import { Conversation, ErrorBox, Json, Link, Pager, ProgressBar, StateBadge, fmtDuration, fmtInt, fmtNum, fmtPct, fmtTime, navigate, useLoad, usePageTokens } from './ui.js';

const isRunning = (job: Job) => !TERMINAL_JOB_STATES.has(job.state);
const fmtMs = (ms: number) => (ms < 10 ? ms.toFixed(2) : fmtInt(Math.round(ms)));

export function ScoreWithCi({ metrics }: { metrics: Record<string, number> | undefined }) {
  if (!metrics || metrics['score'] === undefined) return <span className="muted">—</span>;
  const low = metrics['score_ci95_low'];
  const high = metrics['score_ci95_high'];
  return (
    <span>
      <strong>{fmtNum(metrics['score'])}</strong>
      {low !== undefined && high !== undefined ? (
        <span className="muted small">
          {' '}
          [{fmtNum(low)}, {fmtNum(high)}]
        </span>
      ) : null}
    </span>
  );
}

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

export function JobCreate({ api }: { api: Api }) {
  const choices = useLoad(
    async () => {
      const [evaluators, datasets, leaderboards] = await Promise.all([
        api.listAll<Evaluator>('evaluators', 'evaluators'),
        api.listAll<Dataset>('datasets', 'datasets', { filter: 'state = READY', orderBy: 'createTime desc' }),
        api.listAll<Leaderboard>('leaderboards', 'leaderboards'),
      ]);
      return { evaluators, datasets, leaderboards };
    },
    [api],
  );
  const [evaluator, setEvaluator] = useState('');
  const [dataset, setDataset] = useState('');
  const [jobId, setJobId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [boards, setBoards] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const evaluators = choices.data?.evaluators ?? [];
  const datasets = choices.data?.datasets ?? [];
  const chosenEvaluator = evaluator || (evaluators[0] ? idOf(evaluators[0].name) : '');
  const chosenDataset = dataset || (datasets[0] ? idOf(datasets[0].name) : '');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const id = jobId.trim() || `job-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const account = api.session.accountId;
    setBusy(true);
    setError(undefined);
    try {
      const created = await api.post<Job>('evaluationJobs', {
        evaluationJobId: id,
        evaluationJob: {
          evaluator: `accounts/${account}/evaluators/${chosenEvaluator}`,
          inputDataset: `accounts/${account}/datasets/${chosenDataset}`,
          outputDataset: `accounts/${account}/datasets/${id}-out`,
          ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
        },
        ...(boards.length ? { leaderboardIds: boards } : {}),
      });
      navigate(`/jobs/${idOf(created.name)}`);
    } catch (e: unknown) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <div className="crumbs">
        <Link to="/jobs">Jobs</Link> /
      </div>
      <h1>New evaluation job</h1>
      <ErrorBox error={choices.error} />
      <form className="card stack narrow" onSubmit={submit}>
        <label>
          Evaluator
          <select name="evaluator" value={chosenEvaluator} onChange={(e) => setEvaluator(e.target.value)} required>
            {evaluators.map((e) => (
              <option key={e.name} value={idOf(e.name)}>
                {idOf(e.name)} ({(e.state ?? '').toLowerCase()})
              </option>
            ))}
          </select>
        </label>
        <label>
          Input dataset
          <select name="dataset" value={chosenDataset} onChange={(e) => setDataset(e.target.value)} required>
            {datasets.map((d) => (
              <option key={d.name} value={idOf(d.name)}>
                {idOf(d.name)} ({fmtInt(d.exampleCount)} rows)
              </option>
            ))}
          </select>
        </label>
        <label>
          Job id <span className="muted small">(optional; the output dataset is &lt;id&gt;-out)</span>
          <input name="jobId" value={jobId} onChange={(e) => setJobId(e.target.value)} pattern="[a-z]([a-z0-9\-]{0,61}[a-z0-9])?" />
        </label>
        <label>
          Display name <span className="muted small">(optional)</span>
          <input name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </label>
        {choices.data?.leaderboards.length ? (
          <fieldset>
            <legend>Leaderboards</legend>
            {choices.data.leaderboards.map((b) => {
              const id = idOf(b.name);
              return (
                <label key={id} className="check">
                  <input type="checkbox" checked={boards.includes(id)} onChange={(e) => setBoards((bs) => (e.target.checked ? [...bs, id] : bs.filter((x) => x !== id)))} />
                  {b.displayName || id}
                </label>
              );
            })}
          </fieldset>
        ) : null}
        <ErrorBox error={error} />
        <div>
          <button type="submit" className="primary" disabled={busy || !chosenEvaluator || !chosenDataset}>
            {busy ? 'Creating…' : 'Create job'}
          </button>
        </div>
      </form>
    </div>
  );
}

type Sort = 'index' | 'score' | 'score desc';
type Filter = 'all' | 'errored' | 'invalid';
const FILTERS: Record<Filter, string> = { all: '', errored: 'errorKind != ""', invalid: 'isScoreValid = 0' };

function lastContent(row: Record<string, unknown>): string {
  const messages = row['messages'];
  if (Array.isArray(messages) && messages.length) {
    const content = (messages[messages.length - 1] as { content?: unknown }).content;
    return typeof content === 'string' ? content : JSON.stringify(content);
  }
  return JSON.stringify(row);
}

interface Evaluation {
  score?: number;
  is_score_valid?: boolean;
  reason?: string | null;
  error?: string;
  metrics?: Record<string, { score?: number; reason?: string | null; is_score_valid?: boolean }>;
}

function ResultView({ result, onClose }: { result: Result; onClose: () => void }) {
  const row = result.row;
  const evaluation = (row['evaluation_result'] ?? row['eval_details'] ?? {}) as Evaluation;
  const { messages, ground_truth, evaluation_result: _e, eval_details: _d, evals: _s, ...rest } = row;
  void _e;
  void _d;
  void _s;
  const metrics = Object.entries(evaluation.metrics ?? {});
  return (
    <section className="card result-view" data-testid="result-view">
      <div className="page-head">
        <h2>Row #{result.index}</h2>
        <span className={`badge ${result.errorKind ? 'bad' : result.isScoreValid ? 'ok' : 'wait'}`}>
          {result.errorKind ? `error: ${result.errorKind}` : result.isScoreValid ? 'valid' : 'invalid'}
        </span>
        <span className="spacer" />
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <dl className="facts">
        <dt>Score</dt>
        <dd data-testid="result-score">{fmtNum(result.score)}</dd>
        <dt>Reason</dt>
        <dd data-testid="result-reason">{evaluation.reason ?? '—'}</dd>
        <dt>Ground truth</dt>
        <dd data-testid="ground-truth" className="mono">
          {ground_truth === undefined ? '—' : typeof ground_truth === 'string' ? ground_truth : JSON.stringify(ground_truth)}
        </dd>
        <dt>Time</dt>
        <dd>{fmtMs(result.ms)} ms</dd>
        {evaluation.error ? (
          <>
            <dt>Error</dt>
            <dd className="bad-text" data-testid="result-error">
              {evaluation.error}
            </dd>
          </>
        ) : null}
      </dl>
      {metrics.length ? (
        <>
          <h3>Metrics</h3>
          <table className="table compact">
            <thead>
              <tr>
                <th>Metric</th>
                <th className="num">Score</th>
                <th>Valid</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {metrics.map(([name, m]) => (
                <tr key={name}>
                  <td className="mono">{name}</td>
                  <td className="num">{fmtNum(m.score)}</td>
                  <td>{m.is_score_valid === false ? 'no' : 'yes'}</td>
                  <td>{m.reason || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      <h3>Conversation</h3>
      <Conversation messages={messages} />
      {Object.keys(rest).length ? (
        <>
          <h3>Other fields</h3>
          <Json value={rest} />
        </>
      ) : null}
    </section>
  );
}

function Results({ api, id, version }: { api: Api; id: string; version: string }) {
  const [sort, setSort] = useState<Sort>('index');
  const [filter, setFilter] = useState<Filter>('all');
  const pages = usePageTokens();
  const [selected, setSelected] = useState<Result | null>(null);
  const { page } = pages;
  const results = useLoad(
    () =>
      api.get<{ results: Result[]; nextPageToken: string; totalSize: number }>(`evaluationJobs/${encodeURIComponent(id)}:listResults`, {
        pageSize: 50,
        pageToken: pages.token,
        orderBy: sort,
        filter: FILTERS[filter],
      }),
    [api, id, sort, filter, page, version],
  );
  const reset = () => {
    pages.reset();
    setSelected(null);
  };
  return (
    <section>
      <div className="page-head">
        <h2>Results</h2>
        <span className="muted">{results.data ? `${fmtInt(results.data.totalSize)} ${results.data.totalSize === 1 ? 'row' : 'rows'}` : ''}</span>
        <span className="spacer" />
        <label className="inline">
          Sort
          <select
            name="sort"
            value={sort}
            onChange={(e) => {
              setSort(e.target.value as Sort);
              reset();
            }}
          >
            <option value="index">Row order</option>
            <option value="score">Score ascending</option>
            <option value="score desc">Score descending</option>
          </select>
        </label>
        <label className="inline">
          Show
          <select
            name="filter"
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value as Filter);
              reset();
            }}
          >
            <option value="all">All rows</option>
            <option value="errored">Errored</option>
            <option value="invalid">Invalid score</option>
          </select>
        </label>
      </div>
      <ErrorBox error={results.error} />
      <table className="table results" data-testid="results">
        <thead>
          <tr>
            <th className="num">#</th>
            <th className="num">Score</th>
            <th>Valid</th>
            <th>Error</th>
            <th className="num">ms</th>
            <th>Last message</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {results.data?.results.map((r) => {
            const evaluation = (r.row['evaluation_result'] ?? {}) as Evaluation;
            return (
              <tr key={r.index} className={`clickable ${selected?.index === r.index ? 'selected' : ''}`} onClick={() => setSelected(r)} data-testid="result-row">
                <td className="num mono">{r.index}</td>
                <td className="num">{fmtNum(r.score)}</td>
                <td>{r.isScoreValid ? '✓' : <span className="bad-text">✗</span>}</td>
                <td>{r.errorKind ? <span className="badge bad">{r.errorKind}</span> : ''}</td>
                <td className="num">{fmtMs(r.ms)}</td>
                <td className="ellipsis">{lastContent(r.row).slice(0, 160)}</td>
                <td className="ellipsis muted">{(evaluation.reason ?? '').slice(0, 160)}</td>
              </tr>
            );
          })}
          {results.data?.results.length === 0 ? (
            <tr>
              <td colSpan={7} className="empty">
                No results{filter !== 'all' ? ' match' : ' yet'}.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <Pager
        page={page}
        hasNext={!!results.data?.nextPageToken}
        onPrev={pages.prev}
        onNext={() => pages.next(results.data!.nextPageToken)}
        label={`Page ${page + 1} of ${fmtInt(Math.max(1, Math.ceil((results.data?.totalSize ?? 0) / 50)))}`}
      />
      {selected ? <ResultView result={selected} onClose={() => setSelected(null)} /> : null}
    </section>
  );
}

export function JobDetail({ api, id }: { api: Api; id: string }) {
  const job = useLoad(() => api.get<Job>(`evaluationJobs/${encodeURIComponent(id)}`), [api, id], { pollMs: 1000, keepPolling: isRunning });
  const [actionError, setActionError] = useState<string>();
  const j = job.data;
  const stats = j ? parseStats(j) : null;
  const m = j?.metrics ?? {};
  const metricNames = [...new Set([...Object.keys(m).filter((k) => k.startsWith('metric.')).map((k) => k.slice(7)), ...Object.keys(stats?.metrics ?? {})])].sort();
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
          {m['score'] !== undefined ? (
            <>
              <div className="stats" data-testid="metrics">
                <div className="stat">
                  <div className="stat-label">Score</div>
                  <div className="stat-value" data-testid="metric-score">
                    {fmtNum(m['score'])}
                  </div>
                  <div className="muted small" data-testid="metric-ci">
                    95% CI [{fmtNum(m['score_ci95_low'])}, {fmtNum(m['score_ci95_high'])}]
                  </div>
                </div>
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
          ) : null}
          <Results api={api} id={id} version={version} />
          {running ? null : <JobCompare api={api} id={id} />}
        </>
      ) : null}
    </div>
  );
}
