import { useState, type FormEvent } from 'react';
import { idOf, type Api, type Evaluator } from './api.js';
import { ErrorBox, Link, StateBadge, fmtTime, navigate, useLoad } from './ui.js';

export function EvaluatorList({ api }: { api: Api }) {
  const list = useLoad(() => api.listAll<Evaluator>('evaluators', 'evaluators', { orderBy: 'createTime desc' }), [api], {
    pollMs: 2000,
    keepPolling: (items) => items.some((e) => e.state === 'BUILDING'),
  });
  return (
    <div>
      <div className="page-head">
        <h1>Evaluators</h1>
        <Link to="/evaluators/new" className="button primary" testId="new-evaluator">
          New evaluator
        </Link>
      </div>
      <ErrorBox error={list.error} />
      <table className="table">
        <thead>
          <tr>
            <th>Evaluator</th>
            <th>State</th>
            <th>Entry point</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.map((e) => (
            <tr key={e.name}>
              <td>
                <Link to={`/evaluators/${idOf(e.name)}`}>{e.displayName || idOf(e.name)}</Link>
                {e.displayName && e.displayName !== idOf(e.name) ? <div className="muted small">{idOf(e.name)}</div> : null}
              </td>
              <td>
                <StateBadge state={e.state} />
              </td>
              <td className="mono small">{e.entryPoint || (e.criteria?.length ? `${e.criteria.length} criteria` : '—')}</td>
              <td className="small">{fmtTime(e.updateTime)}</td>
            </tr>
          ))}
          {list.data?.length === 0 ? (
            <tr>
              <td colSpan={4} className="empty">
                No evaluators yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

export function EvaluatorDetail({ api, id }: { api: Api; id: string }) {
  const evaluator = useLoad(() => api.get<Evaluator>(`evaluators/${encodeURIComponent(id)}`), [api, id], {
    pollMs: 1000,
    keepPolling: (e) => e.state === 'BUILDING',
  });
  const state = evaluator.data?.state;
  const log = useLoad(
    async () => {
      const { buildLogSignedUri } = await api.get<{ buildLogSignedUri?: string }>(`evaluators/${encodeURIComponent(id)}:getBuildLogEndpoint`);
      if (!buildLogSignedUri) return '';
      const response = await fetch(buildLogSignedUri);
      return response.ok ? await response.text() : `(build log: HTTP ${response.status})`;
    },
    [api, id, state],
  );
  const [deleteError, setDeleteError] = useState<string>();
  const e = evaluator.data;
  const files = (e?.criteria ?? []).flatMap((c) => Object.entries(c.codeSnippets?.fileContents ?? {}).map(([path, text]) => ({ criterion: c.name ?? '', path, text })));
  const remove = async () => {
    if (!confirm(`Delete evaluator ${id}?`)) return;
    try {
      await api.del(`evaluators/${encodeURIComponent(id)}`);
      navigate('/evaluators');
    } catch (err: unknown) {
      setDeleteError((err as Error).message);
    }
  };
  return (
    <div>
      <div className="crumbs">
        <Link to="/evaluators">Evaluators</Link> /
      </div>
      <div className="page-head">
        <h1>{e?.displayName || id}</h1>
        {e ? <StateBadge state={e.state} /> : null}
        <span className="spacer" />
        <button type="button" className="danger" onClick={remove}>
          Delete
        </button>
      </div>
      <ErrorBox error={evaluator.error ?? deleteError} />
      {e ? (
        <>
          {e.status?.message ? <div className={`status ${e.state === 'BUILD_FAILED' ? 'bad' : ''}`}>{e.status.message}</div> : null}
          <dl className="facts">
            <dt>Id</dt>
            <dd className="mono">{idOf(e.name)}</dd>
            {e.description ? (
              <>
                <dt>Description</dt>
                <dd>{e.description}</dd>
              </>
            ) : null}
            <dt>Entry point</dt>
            <dd className="mono" data-testid="entry-point">
              {e.entryPoint || (e.criteria?.[0]?.codeSnippets?.entryFunc ? `${e.criteria[0].codeSnippets.entryFile ?? ''}::${e.criteria[0].codeSnippets.entryFunc}` : 'default (evaluate)')}
            </dd>
            {e.source?.githubRepositoryName ? (
              <>
                <dt>Source</dt>
                <dd className="mono">
                  {e.source.githubRepositoryName}
                  {e.commitHash ? ` @ ${e.commitHash.slice(0, 12)}` : ''}
                </dd>
              </>
            ) : null}
            <dt>Criteria</dt>
            <dd>{(e.criteria ?? []).map((c) => c.name || c.type || 'unnamed').join(', ') || '—'}</dd>
            <dt>Created</dt>
            <dd>{fmtTime(e.createTime)}</dd>
            <dt>Updated</dt>
            <dd>{fmtTime(e.updateTime)}</dd>
          </dl>
          <h2>Requirements</h2>
          {e.requirements ? <pre className="code">{e.requirements}</pre> : <p className="muted">None.</p>}
          <h2>Source files</h2>
          {files.length === 0 ? <p className="muted">No inline source (built from an uploaded archive or a repository).</p> : null}
          {files.map((f) => (
            <details key={`${f.criterion}/${f.path}`} open className="file">
              <summary className="mono">
                {f.path}
                {f.criterion ? <span className="muted"> · {f.criterion}</span> : null}
              </summary>
              <pre className="code">{f.text}</pre>
            </details>
          ))}
          <h2>Build log</h2>
          {log.error ? <p className="muted">{log.error}</p> : log.data ? <pre className="code log" data-testid="build-log">{log.data}</pre> : <p className="muted">{log.loading ? 'Loading…' : 'No build log.'}</p>}
        </>
      ) : null}
    </div>
  );
}

const SEED_EVALUATE = [
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    answer = messages[-1]["content"].strip()',
  '    ok = float(answer == str(ground_truth).strip())',
  '    return {"score": ok, "reason": "exact match" if ok else "expected %r, got %r" % (ground_truth, answer)}',
  '',
].join('\n');

export const SEED_PAYLOAD = JSON.stringify(
  {
    evaluatorId: 'exact-match',
    evaluator: {
      displayName: 'Exact match',
      description: 'Scores 1 when the last message equals the ground truth.',
      criteria: [{ name: 'exact', type: 'CODE_SNIPPETS', codeSnippets: { language: 'python', fileContents: { 'main.py': SEED_EVALUATE } } }],
    },
  },
  null,
  2,
);

export function EvaluatorCreate({ api }: { api: Api }) {
  const [text, setText] = useState(SEED_PAYLOAD);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(text) as Record<string, unknown>;
    } catch (e: unknown) {
      setError(`Not valid JSON: ${(e as Error).message}`);
      return;
    }
    // Accept the create body ({evaluatorId, evaluator}) or a bare evaluator.
    const body = 'evaluator' in payload ? payload : { evaluator: payload };
    setBusy(true);
    try {
      const created = await api.post<Evaluator>('evaluatorsV2', body);
      navigate(`/evaluators/${idOf(created.name)}`);
    } catch (e: unknown) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <div className="crumbs">
        <Link to="/evaluators">Evaluators</Link> /
      </div>
      <h1>New evaluator</h1>
      <p className="muted">
        The create request body: <code>{'{evaluatorId, evaluator: {displayName, criteria, requirements, entryPoint, …}}'}</code>. Inline code goes in{' '}
        <code>criteria[].codeSnippets.fileContents</code>.
      </p>
      <form onSubmit={submit} className="stack">
        <textarea name="payload" className="code-input" spellCheck={false} rows={22} value={text} onChange={(e) => setText(e.target.value)} />
        <ErrorBox error={error} />
        <div>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create evaluator'}
          </button>
        </div>
      </form>
    </div>
  );
}
