import { StrictMode, useMemo, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import { Api, loadSession, saveSession, verifyKey, type Session } from './api.js';
import { DatasetDetail, DatasetList } from './datasets.js';
import { EvaluatorCreate, EvaluatorDetail, EvaluatorList } from './evaluators.js';
import { JobCreate, JobDetail, JobList } from './jobs.js';
import { LeaderboardDetail, LeaderboardList } from './leaderboards.js';
import { ErrorBox, Link, navigate, useLocation } from './ui.js';
import './styles.css';

function Login({ onLogin }: { onLogin: (session: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onLogin(await verifyKey(key.trim()));
    } catch (e: unknown) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="login">
      <form className="card" onSubmit={submit}>
        <h1>Tally</h1>
        <p className="muted">Sign in with an API key. It is kept for this browser tab only.</p>
        <label>
          API key
          <input name="apiKey" type="password" autoComplete="off" autoFocus value={key} onChange={(e) => setKey(e.target.value)} required />
        </label>
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}

const SECTIONS = [
  ['/jobs', 'Jobs'],
  ['/evaluators', 'Evaluators'],
  ['/datasets', 'Datasets'],
  ['/leaderboards', 'Leaderboards'],
] as const;

function NotFound() {
  return (
    <div>
      <h1>Not found</h1>
      <p>
        <Link to="/jobs">Back to jobs</Link>
      </p>
    </div>
  );
}

function Page({ api, path }: { api: Api; path: string }) {
  const parts = path.split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
  const [section, id, sub] = parts;
  switch (section) {
    case undefined:
    case 'login':
    case 'jobs':
      if (section === 'login') return <JobList api={api} />;
      if (!id) return <JobList api={api} />;
      if (id === 'new') return <JobCreate api={api} />;
      return <JobDetail key={id} api={api} id={id} />;
    case 'evaluators':
      if (!id) return <EvaluatorList api={api} />;
      if (id === 'new') return <EvaluatorCreate api={api} />;
      return <EvaluatorDetail key={id} api={api} id={id} />;
    case 'datasets':
      if (!id) return <DatasetList api={api} />;
      return <DatasetDetail key={id} api={api} id={id} />;
    case 'leaderboards':
      if (!id) return <LeaderboardList api={api} />;
      return <LeaderboardDetail key={id} api={api} id={id} />;
    default:
      void sub;
      return <NotFound />;
  }
}

function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const path = useLocation();
  const logout = () => {
    saveSession(null);
    setSession(null);
  };
  const api = useMemo(() => (session ? new Api(session, logout) : null), [session]);
  if (!api || !session) {
    return (
      <Login
        onLogin={(s) => {
          saveSession(s);
          setSession(s);
          if (location.pathname === '/login') navigate('/jobs', true);
        }}
      />
    );
  }
  const current = '/' + (path.split('/')[1] ?? '').split('?')[0];
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/jobs" className="brand">
          Tally
        </Link>
        <nav>
          {SECTIONS.map(([to, label]) => (
            <Link key={to} to={to} className={current === to || (current === '/' && to === '/jobs') ? 'active' : ''}>
              {label}
            </Link>
          ))}
        </nav>
        <div className="who">
          <span className="muted" data-testid="account">
            {session.accountId}
          </span>
          <button type="button" className="link" onClick={logout}>
            Sign out
          </button>
        </div>
      </header>
      <main>
        <Page api={api} path={path} />
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
