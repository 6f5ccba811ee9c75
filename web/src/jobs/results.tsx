import { useState } from 'react';
import type { Api, Result } from '../api.js';
import { ErrorBox, Pager, fmtInt, fmtNum, useLoad, usePageTokens } from '../ui.js';
import { fmtMs } from './job-state.js';
import { ResultView, type Evaluation } from './result-view.js';

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

export function Results({ api, id, version }: { api: Api; id: string; version: string }) {
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
