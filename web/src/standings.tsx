/** A leaderboard job's test against the leader (`:getStandings`), as a compact cell. */
import { type Api } from './api.js';
import { fmtNum, useLoad } from './ui.js';

export interface Standing {
  evaluationJob: string;
  tiedWithLeader: boolean;
  versusLeader: { test: string; pairs: number; meanDiff: number | null; pValueHolm: number | null } | null;
}

/** Standings by job name; reloads with the board's job list (`version`). */
export function useStandings(api: Api, id: string, version: unknown): Map<string, Standing> {
  const loaded = useLoad(() => api.get<{ standings: Standing[] }>(`leaderboards/${encodeURIComponent(id)}:getStandings`), [api, id, version]);
  return new Map((loaded.data?.standings ?? []).map((s) => [s.evaluationJob, s]));
}

export function VersusLeader({ standing, rank }: { standing: Standing | undefined; rank: number }) {
  if (rank === 1) return <span className="badge ok">leader</span>;
  const v = standing?.versusLeader;
  if (!standing || !v) return <span className="muted">—</span>;
  const p = v.pValueHolm === null ? '—' : v.pValueHolm < 1e-4 ? v.pValueHolm.toExponential(1) : v.pValueHolm.toFixed(3);
  const title = `${v.test}${v.pairs ? ` over ${v.pairs} shared rows` : ''}; Holm-adjusted p = ${p}`;
  return (
    <span title={title} data-testid="versus-leader">
      {standing.tiedWithLeader ? <span className="badge wait">tie</span> : <span className="badge bad">behind</span>} <span className="muted small">Δ {fmtNum(v.meanDiff)} · p {p}</span>
    </span>
  );
}
