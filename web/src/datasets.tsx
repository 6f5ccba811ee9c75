import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError, JsonlReader, idOf, type Api, type Dataset } from './api.js';
import { Conversation, ErrorBox, Json, Link, Pager, StateBadge, fmtInt, fmtTime, navigate, useLoad, usePageTokens } from './ui.js';

const PAGE_ROWS = 50;

function UploadForm({ api, onDone }: { api: Api; onDone: (id: string) => void }) {
  const [id, setId] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    const datasetId = id.trim() || file.name.replace(/\.[^.]*$/, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+|-+$/g, '').slice(0, 63);
    setBusy(true);
    setError(undefined);
    try {
      try {
        await api.post('datasets', { datasetId, dataset: { displayName: datasetId } });
      } catch (e: unknown) {
        // A dataset left UPLOADING by a refused file takes a new file; a READY one is not overwritten.
        const existing = e instanceof ApiError && e.status === 409 ? await api.get<Dataset>(`datasets/${encodeURIComponent(datasetId)}`) : null;
        if (existing?.state !== 'UPLOADING') throw e;
      }
      const form = new FormData();
      form.append('file', file, file.name);
      await api.request('POST', `datasets/${encodeURIComponent(datasetId)}:upload`, form);
      onDone(datasetId);
    } catch (e: unknown) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card inline-form" onSubmit={submit}>
      <h2>Upload a dataset</h2>
      <div className="row">
        <label>
          Dataset id
          <input name="datasetId" placeholder="from the file name" value={id} onChange={(e) => setId(e.target.value)} pattern="[a-z]([a-z0-9\-]{0,61}[a-z0-9])?" />
        </label>
        <label>
          JSONL file
          <input name="file" type="file" accept=".jsonl,.json,application/jsonl,text/plain" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required />
        </label>
        <button type="submit" className="primary" disabled={busy || !file}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </div>
      <ErrorBox error={error} />
    </form>
  );
}

export function DatasetList({ api }: { api: Api }) {
  const pages = usePageTokens();
  const { page } = pages;
  const list = useLoad(
    () => api.get<{ datasets: Dataset[]; nextPageToken: string; totalSize: number }>('datasets', { orderBy: 'createTime desc', pageSize: 50, pageToken: pages.token }),
    [api, page],
  );
  return (
    <div>
      <div className="page-head">
        <h1>Datasets</h1>
        <span className="muted">{list.data ? `${fmtInt(list.data.totalSize)} datasets` : ''}</span>
      </div>
      <UploadForm api={api} onDone={(id) => navigate(`/datasets/${id}`)} />
      <ErrorBox error={list.error} />
      <table className="table">
        <thead>
          <tr>
            <th>Dataset</th>
            <th>State</th>
            <th className="num">Rows</th>
            <th>Format</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.datasets.map((d) => (
            <tr key={d.name}>
              <td>
                <Link to={`/datasets/${idOf(d.name)}`}>{idOf(d.name)}</Link>
                {d.displayName && d.displayName !== idOf(d.name) ? <div className="muted small">{d.displayName}</div> : null}
              </td>
              <td>
                <StateBadge state={d.state} />
              </td>
              <td className="num">{fmtInt(d.exampleCount)}</td>
              <td className="small">{d.format?.replace('FORMAT_UNSPECIFIED', '—')}</td>
              <td className="small">{fmtTime(d.createTime)}</td>
            </tr>
          ))}
          {list.data?.datasets.length === 0 ? (
            <tr>
              <td colSpan={5} className="empty">
                No datasets yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <Pager page={page} hasNext={!!list.data?.nextPageToken} onPrev={pages.prev} onNext={() => pages.next(list.data!.nextPageToken)} />
    </div>
  );
}

/** One dataset row: the conversation when it has `messages`, then the other fields. */
export function RowView({ row }: { row: Record<string, unknown> }) {
  const { messages, ...rest } = row;
  return (
    <div className="row-view">
      {messages !== undefined ? <Conversation messages={messages} /> : null}
      {Object.keys(rest).length ? <Json value={rest} /> : null}
    </div>
  );
}

export function DatasetDetail({ api, id }: { api: Api; id: string }) {
  const dataset = useLoad(() => api.get<Dataset>(`datasets/${encodeURIComponent(id)}`), [api, id]);
  const [page, setPage] = useState(0);
  const [rows, setRows] = useState<string[]>();
  const [rowsError, setRowsError] = useState<string>();
  const [open, setOpen] = useState<number | null>(null);
  const reader = useRef<JsonlReader | null>(null);
  const ready = dataset.data?.state === 'READY';
  const total = Number(dataset.data?.exampleCount ?? 0);

  useEffect(() => () => reader.current?.cancel(), []);
  useEffect(() => {
    if (!ready) return;
    let cancelled = false;
    void (async () => {
      try {
        if (!reader.current) {
          const { filenameToSignedUrls } = await api.get<{ filenameToSignedUrls: Record<string, string> }>(`datasets/${encodeURIComponent(id)}:getDownloadEndpoint`);
          const url = Object.values(filenameToSignedUrls)[0];
          if (!url) throw new Error('the dataset has no file to download');
          reader.current = new JsonlReader(url);
        }
        const lines = await reader.current.slice(page * PAGE_ROWS, PAGE_ROWS);
        if (!cancelled) {
          setRows(lines);
          setRowsError(undefined);
        }
      } catch (e: unknown) {
        if (!cancelled) setRowsError((e as Error).message);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [api, id, ready, page]);

  const d = dataset.data;
  const pages = Math.max(1, Math.ceil(total / PAGE_ROWS));
  return (
    <div>
      <div className="crumbs">
        <Link to="/datasets">Datasets</Link> /
      </div>
      <div className="page-head">
        <h1>{id}</h1>
        {d ? <StateBadge state={d.state} /> : null}
      </div>
      <ErrorBox error={dataset.error} />
      {d ? (
        <dl className="facts">
          <dt>Rows</dt>
          <dd data-testid="example-count">{fmtInt(d.exampleCount)}</dd>
          <dt>Format</dt>
          <dd>{d.format}</dd>
          {d.averageTurnCount ? (
            <>
              <dt>Avg. turns</dt>
              <dd>{d.averageTurnCount.toFixed(1)}</dd>
            </>
          ) : null}
          <dt>Est. tokens</dt>
          <dd>{fmtInt(d.estimatedTokenCount)}</dd>
          <dt>Created</dt>
          <dd>{fmtTime(d.createTime)}</dd>
          {d.status?.message ? (
            <>
              <dt>Status</dt>
              <dd>{d.status.message}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {ready ? (
        <>
          <h2>Rows</h2>
          <ErrorBox error={rowsError} />
          <Pager
            page={page}
            hasNext={page + 1 < pages}
            onPrev={() => setPage((p) => p - 1)}
            onNext={() => setPage((p) => p + 1)}
            label={`Rows ${fmtInt(page * PAGE_ROWS + 1)}–${fmtInt(Math.min(total, (page + 1) * PAGE_ROWS))} of ${fmtInt(total)}`}
          />
          <div className="rows">
            {rows?.map((line, i) => {
              const index = page * PAGE_ROWS + i;
              let row: Record<string, unknown> = {};
              try {
                row = JSON.parse(line) as Record<string, unknown>;
              } catch {
                row = { line };
              }
              const messages = Array.isArray(row['messages']) ? (row['messages'] as { content?: unknown }[]) : [];
              const preview = messages.length ? String(messages[0]?.content ?? '') : line;
              return (
                <div key={index} className={`row-item ${open === index ? 'open' : ''}`} data-testid="dataset-row">
                  <button type="button" className="row-head" onClick={() => setOpen(open === index ? null : index)}>
                    <span className="mono muted">#{index}</span>
                    <span className="ellipsis">{preview.slice(0, 200)}</span>
                    {messages.length ? <span className="muted small">{messages.length} msgs</span> : null}
                  </button>
                  {open === index ? <RowView row={row} /> : null}
                </div>
              );
            })}
          </div>
        </>
      ) : null}
    </div>
  );
}
