import { useState, type FormEvent } from 'react';
import { idOf, type Api, type Dataset, type Evaluator, type Job, type Leaderboard } from '../api.js';
import { ErrorBox, Link, fmtInt, navigate, useLoad } from '../ui.js';

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
