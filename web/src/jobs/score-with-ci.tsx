import { fmtNum } from '../ui.js';

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
