/**
 * Compare a finished job with a baseline (`:compare`): pick the baseline, see the counts and the
 * paired diff, page through the rows that moved, and open one to see both outputs side by side.
 */
import { useState } from 'react';
import { idOf, type Api, type Job } from './api.js';
import { Conversation, ErrorBox, Pager, fmtInt, fmtNum, useLoad, usePageTokens } from './ui.js';

interface Paired { pairs: number; meanDiff: number | null; ci95Low: number | null; ci95High: number | null; pValue: number | null; test: string }
interface Summary { rows: number; improved: number; regressed: number; unchanged: number; onlyInBaseline: number; onlyInCandidate: number; score: Paired; metrics: Record<string, Paired> }
interface Side { index: number; score: number; isScoreValid: boolean; errorKind: string; row?: Record<string, unknown> | null }
interface Compared { status: string; diff: number | null; key?: string; baseline: Side | null; candidate: Side | null }
interface Comparison { summary: Summary; rows: Compared[]; nextPageToken: string; totalSize: number }

const SHOW: Record<string, string> = { changed: 'Rows that moved', regressed: 'Regressions', improved: 'Improvements', '': 'All rows' };
const PAGE = 20;
const fmtP = (p: number | null) => (p === null ? '—' : p > 0 && p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

export function JobCompare({ api, id }: { api: Api; id: string }) {
  const [baseline, setBaseline] = useState('');
  const [joinKey, setJoinKey] = useState('');
  const [show, setShow] = useState('changed');
  const jobs = useLoad(() => api.get<{ evaluationJobs: Job[] }>('evaluationJobs', { filter: 'state = JOB_STATE_COMPLETED', orderBy: 'createTime desc', pageSize: 100 }), [api]);
  const choices = (jobs.data?.evaluationJobs ?? []).filter((j) => idOf(j.name) !== id);
  return (
    <section data-testid="compare">
      <div className="page-head">
        <h2>Compare with a baseline</h2>
        <span className="spacer" />
        <label className="inline">
          Baseline
          <select name="baseline" value={baseline} onChange={(e) => setBaseline(e.target.value)}>
            <option value="">—</option>
            {choices.map((j) => (
              <option key={j.name} value={idOf(j.name)}>
                {j.displayName || idOf(j.name)}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          Join key
          <input name="joinKey" placeholder="by row index" value={joinKey} onChange={(e) => setJoinKey(e.target.value.trim())} />
        </label>
        <label className="inline">
          Show
          <select name="show" value={show} onChange={(e) => setShow(e.target.value)}>
            {Object.entries(SHOW).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={jobs.error} />
      {baseline ? <ComparisonView api={api} id={id} baseline={baseline} joinKey={joinKey} show={show} /> : <p className="muted">Pick a finished job to compare this one with.</p>}
    </section>
  );
}

function ComparisonView({ api, id, baseline, joinKey, show }: { api: Api; id: string; baseline: string; joinKey: string; show: string }) {
  const pages = usePageTokens();
  const [selected, setSelected] = useState<Compared | null>(null);
  const result = useLoad(
    () => api.get<Comparison>(`evaluationJobs/${encodeURIComponent(id)}:compare`, { baseline, joinKey, status: show, view: 'FULL', pageSize: PAGE, pageToken: pages.token }),
    [api, id, baseline, joinKey, show, pages.page],
  );
  const data = result.data;
  return (
    <>
      <ErrorBox error={result.error} />
      {data ? <SummaryCard summary={data.summary} /> : null}
      {data ? <MetricDiffs metrics={data.summary.metrics ?? {}} /> : null}
      <table className="table results" data-testid="compare-rows">
        <thead>
          <tr>
            <th>Status</th>
            <th>Row</th>
            <th className="num">Baseline</th>
            <th className="num">Candidate</th>
            <th className="num">Diff</th>
          </tr>
        </thead>
        <tbody>
          {data?.rows.map((r, i) => (
            <tr key={`${r.key ?? ''}:${r.candidate?.index ?? r.baseline?.index}:${i}`} className="clickable" onClick={() => setSelected(r)} data-testid="compare-row">
              <td><span className={`badge ${r.status === 'regressed' ? 'bad' : r.status === 'improved' ? 'ok' : 'wait'}`}>{r.status}</span></td>
              <td className="mono">{r.key ?? r.candidate?.index ?? r.baseline?.index}</td>
              <td className="num">{fmtNum(r.baseline?.score)}</td>
              <td className="num">{fmtNum(r.candidate?.score)}</td>
              <td className="num">{fmtNum(r.diff)}</td>
            </tr>
          ))}
          {data?.rows.length === 0 ? (
            <tr>
              <td colSpan={5} className="empty">No rows to show.</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <Pager page={pages.page} hasNext={!!data?.nextPageToken} onPrev={pages.prev} onNext={() => pages.next(data!.nextPageToken)} label={`Page ${pages.page + 1} of ${fmtInt(Math.max(1, Math.ceil((data?.totalSize ?? 0) / PAGE)))}`} />
      {selected ? <SideBySide row={selected} onClose={() => setSelected(null)} /> : null}
    </>
  );
}

function SummaryCard({ summary }: { summary: Summary }) {
  const s = summary.score;
  const stat = (label: string, value: string, testId?: string) => (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value" data-testid={testId}>{value}</div>
    </div>
  );
  return (
    <div className="stats" data-testid="compare-summary">
      {stat('Regressed', fmtInt(summary.regressed), 'compare-regressed')}
      {stat('Improved', fmtInt(summary.improved), 'compare-improved')}
      {stat('Unchanged', fmtInt(summary.unchanged))}
      {summary.onlyInBaseline || summary.onlyInCandidate ? stat('Only in one', `${fmtInt(summary.onlyInBaseline)} / ${fmtInt(summary.onlyInCandidate)}`) : null}
      <div className="stat">
        <div className="stat-label">Score diff</div>
        <div className="stat-value" data-testid="compare-diff">{fmtNum(s.meanDiff, 4)}</div>
        <div className="muted small">
          95% CI [{fmtNum(s.ci95Low, 4)}, {fmtNum(s.ci95High, 4)}] · p {fmtP(s.pValue)} ({s.test}) · {fmtInt(s.pairs)} pairs
        </div>
      </div>
    </div>
  );
}

/** The paired difference of every metric both jobs report, as the score's. */
function MetricDiffs({ metrics }: { metrics: Record<string, Paired> }) {
  const rows = Object.entries(metrics).sort(([a], [b]) => a.localeCompare(b));
  if (rows.length === 0) return null;
  return (
    <table className="table" data-testid="compare-metrics" style={{ marginBottom: '1.5rem' }}>
      <thead>
        <tr>
          <th>Metric</th>
          <th className="num">Diff</th>
          <th>95% CI</th>
          <th className="num">p</th>
          <th className="num">Pairs</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, m]) => (
          <tr key={name} data-testid="compare-metric">
            <td className="mono">{name}</td>
            <td className="num">{fmtNum(m.meanDiff, 4)}</td>
            <td className="small">[{fmtNum(m.ci95Low, 4)}, {fmtNum(m.ci95High, 4)}]</td>
            <td className="num small">{fmtP(m.pValue)} ({m.test})</td>
            <td className="num">{fmtInt(m.pairs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SideBySide({ row, onClose }: { row: Compared; onClose: () => void }) {
  return (
    <section className="card result-view" data-testid="side-by-side">
      <div className="page-head">
        <h2>Row {row.key ?? row.candidate?.index ?? row.baseline?.index}</h2>
        <span className="badge">{row.status}</span>
        <span className="spacer" />
        <button type="button" onClick={onClose}>Close</button>
      </div>
      <div className="two-col">
        <SideView title="Baseline" side={row.baseline} />
        <SideView title="Candidate" side={row.candidate} />
      </div>
    </section>
  );
}

function SideView({ title, side }: { title: string; side: Side | null }) {
  if (!side) return <section><h3>{title}</h3><p className="muted">This job has no such row.</p></section>;
  const evaluation = (side.row?.['evaluation_result'] ?? {}) as { reason?: string | null; error?: string };
  return (
    <section>
      <h3>
        {title}: {fmtNum(side.score)} {side.errorKind ? <span className="badge bad">{side.errorKind}</span> : null}
      </h3>
      <p className="muted small">{evaluation.error ?? evaluation.reason ?? ''}</p>
      <Conversation messages={side.row?.['messages']} />
    </section>
  );
}
