import { useCallback, useEffect, useRef, useState, useSyncExternalStore, type MouseEvent, type ReactNode } from 'react';
import type { Api, Progress } from './api.js';

/* ---------- routing: the History API, no dependency ---------- */

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  listeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

export function useLocation(): string {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => location.pathname + location.search,
  );
}

export function Link({ to, children, className, testId }: { to: string; children: ReactNode; className?: string; testId?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} className={className} data-testid={testId}>
      {children}
    </a>
  );
}

/* ---------- data loading ---------- */

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when deps change; with `pollMs`, again every pollMs while `keepPolling(data)`. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], options: { pollMs?: number; keepPolling?: (data: T) => boolean } = {}): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const loadRef = useRef(load);
  loadRef.current = load;
  const optionsRef = useRef(options);
  optionsRef.current = options;

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      setLoading(true);
      try {
        const value = await loadRef.current();
        if (cancelled) return;
        setData(value);
        setError(undefined);
        const { pollMs, keepPolling } = optionsRef.current;
        if (pollMs && (!keepPolling || keepPolling(value))) timer = setTimeout(() => void run(), pollMs);
      } catch (e: unknown) {
        if (!cancelled) setError((e as Error).message);
      } finally {
        if (!cancelled) setLoading(false);
      }
    };
    void run();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
    // Re-run when the caller's deps change (or on reload), not on every new `load` closure.
  }, [...deps, tick]);
  return { data, error, loading, reload };
}

/* ---------- small components ---------- */

export function ErrorBox({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {error}
    </div>
  );
}

const STATE_TONE: Record<string, string> = {
  ACTIVE: 'ok', READY: 'ok', JOB_STATE_COMPLETED: 'ok',
  BUILDING: 'busy', UPLOADING: 'busy', JOB_STATE_RUNNING: 'busy', JOB_STATE_PENDING: 'wait', JOB_STATE_CREATING: 'wait', JOB_STATE_CANCELLING: 'wait', JOB_STATE_WRITING_RESULTS: 'busy',
  BUILD_FAILED: 'bad', JOB_STATE_FAILED: 'bad', JOB_STATE_CANCELLED: 'muted', JOB_STATE_EXPIRED: 'muted',
};

export function StateBadge({ state }: { state: string | undefined }) {
  const s = state ?? 'STATE_UNSPECIFIED';
  return (
    <span className={`badge ${STATE_TONE[s] ?? 'muted'}`} data-testid="state">
      {s.replace(/^JOB_STATE_/, '').replaceAll('_', ' ').toLowerCase()}
    </span>
  );
}

export function ProgressBar({ progress, state }: { progress: Progress | undefined; state?: string }) {
  const total = progress?.rowsTotal ?? 0;
  const done = progress?.rowsDone ?? 0;
  const errored = progress?.rowsErrored ?? 0;
  const pct = total > 0 ? (done / total) * 100 : state === 'JOB_STATE_COMPLETED' ? 100 : 0;
  const errPct = total > 0 ? (errored / total) * 100 : 0;
  return (
    <div className="progress" title={`${fmtInt(done)} / ${fmtInt(total)} rows${errored ? `, ${fmtInt(errored)} errored` : ''}`}>
      <div className="progress-fill" style={{ width: `${Math.max(0, pct - errPct)}%` }} />
      <div className="progress-err" style={{ width: `${errPct}%` }} />
    </div>
  );
}

/**
 * Server-side paging: the page tokens seen so far form a stack, so Prev pops and Next pushes the
 * token the server returned. `reset` goes back to the first page (a new sort or filter).
 */
export function usePageTokens() {
  const [tokens, setTokens] = useState<string[]>(['']);
  return {
    page: tokens.length - 1,
    token: tokens[tokens.length - 1]!,
    prev: () => setTokens((t) => t.slice(0, -1)),
    next: (token: string) => setTokens((t) => [...t, token]),
    reset: () => setTokens(['']),
  };
}

export function Pager({ page, hasNext, onPrev, onNext, label }: { page: number; hasNext: boolean; onPrev: () => void; onNext: () => void; label?: string }) {
  return (
    <div className="pager">
      <button type="button" onClick={onPrev} disabled={page === 0}>
        ‹ Prev
      </button>
      <span data-testid="page-label">{label ?? `Page ${page + 1}`}</span>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next ›
      </button>
    </div>
  );
}

interface Message {
  role?: string;
  content?: unknown;
  tool_calls?: unknown;
  name?: string;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((part) => (typeof part === 'object' && part && 'text' in part ? String((part as { text: unknown }).text) : JSON.stringify(part))).join('\n');
  if (content === null || content === undefined) return '';
  return JSON.stringify(content, null, 2);
}

/** A `messages` array as a conversation. */
export function Conversation({ messages }: { messages: unknown }) {
  if (!Array.isArray(messages)) return <p className="muted">No messages.</p>;
  return (
    <div className="conversation" data-testid="conversation">
      {(messages as Message[]).map((m, i) => (
        <div key={i} className={`msg role-${(m.role ?? 'unknown').replace(/[^a-z]/g, '')}`}>
          <div className="msg-role">{m.role ?? '?'}{m.name ? ` · ${m.name}` : ''}</div>
          <div className="msg-content">{contentText(m.content)}</div>
          {m.tool_calls ? <pre className="msg-tools">{JSON.stringify(m.tool_calls, null, 2)}</pre> : null}
        </div>
      ))}
    </div>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>;
}

/* ---------- formatting ---------- */

export const fmtInt = (n: number | string | undefined): string => (n === undefined ? '—' : Number(n).toLocaleString('en-US'));
export const fmtNum = (n: number | undefined | null, digits = 3): string =>
  n === undefined || n === null || Number.isNaN(n) ? '—' : Number.isInteger(n) ? String(n) : n.toFixed(digits);
export const fmtPct = (n: number | undefined): string => (n === undefined ? '—' : `${(n * 100).toFixed(1)}%`);
export function fmtTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${Math.round(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.round((seconds % 3600) / 60)}m`;
}

export type { Api };
