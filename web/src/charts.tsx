import { fmtNum } from './ui.js';

/** Bars of a score histogram ({low, high, count}[]), as an SVG. */
export function Histogram({ bins, width = 520, height = 180 }: { bins: { low: number; high: number; count: number }[]; width?: number; height?: number }) {
  if (bins.length === 0) return <p className="muted">No scores yet.</p>;
  const pad = { left: 40, right: 10, top: 10, bottom: 28 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const max = Math.max(1, ...bins.map((b) => b.count));
  const barW = w / bins.length;
  const ticks = [0, Math.round(max / 2), max].filter((v, i, a) => a.indexOf(v) === i);
  return (
    <svg className="histogram" data-testid="histogram" viewBox={`0 0 ${width} ${height}`} width="100%" style={{ maxWidth: width }} role="img" aria-label="score histogram">
      {ticks.map((t) => {
        const y = pad.top + h - (t / max) * h;
        return (
          <g key={t}>
            <line x1={pad.left} x2={pad.left + w} y1={y} y2={y} className="grid" />
            <text x={pad.left - 6} y={y + 4} textAnchor="end" className="axis">
              {t.toLocaleString('en-US')}
            </text>
          </g>
        );
      })}
      {bins.map((b, i) => {
        const bh = (b.count / max) * h;
        return (
          <rect key={i} className="bar" x={pad.left + i * barW + 1} y={pad.top + h - bh} width={Math.max(1, barW - 2)} height={bh}>
            <title>{`${fmtNum(b.low)} – ${fmtNum(b.high)}: ${b.count.toLocaleString('en-US')} rows`}</title>
          </rect>
        );
      })}
      <text x={pad.left} y={height - 8} className="axis">
        {fmtNum(bins[0]!.low)}
      </text>
      <text x={pad.left + w} y={height - 8} textAnchor="end" className="axis">
        {fmtNum(bins[bins.length - 1]!.high)}
      </text>
      <text x={pad.left + w / 2} y={height - 8} textAnchor="middle" className="axis">
        score
      </text>
    </svg>
  );
}

export interface CiRow {
  label: string;
  score: number;
  low: number;
  high: number;
}

/** One line per row: the score as a dot, its 95% interval as a bar, on a shared axis. */
export function CiChart({ rows, width = 640 }: { rows: CiRow[]; width?: number }) {
  if (rows.length === 0) return null;
  const lo = Math.min(0, ...rows.map((r) => r.low));
  const hi = Math.max(1, ...rows.map((r) => r.high));
  const pad = { left: 10, right: 10 };
  const rowH = 26;
  const height = rows.length * rowH + 24;
  const w = width - pad.left - pad.right;
  const x = (v: number) => pad.left + ((v - lo) / (hi - lo || 1)) * w;
  return (
    <svg className="ci-chart" data-testid="ci-chart" viewBox={`0 0 ${width} ${height}`} width="100%" style={{ maxWidth: width }}>
      {[lo, (lo + hi) / 2, hi].map((t) => (
        <g key={t}>
          <line x1={x(t)} x2={x(t)} y1={0} y2={height - 20} className="grid" />
          <text x={x(t)} y={height - 6} textAnchor={t === lo ? 'start' : t === hi ? 'end' : 'middle'} className="axis">
            {fmtNum(t, 2)}
          </text>
        </g>
      ))}
      {rows.map((r, i) => {
        const y = i * rowH + rowH / 2;
        return (
          <g key={i}>
            <title>{`${r.label}: ${fmtNum(r.score)} (95% CI ${fmtNum(r.low)} – ${fmtNum(r.high)})`}</title>
            <rect x={x(r.low)} y={y - 4} width={Math.max(2, x(r.high) - x(r.low))} height={8} rx={4} className="ci-bar" />
            <circle cx={x(r.score)} cy={y} r={5} className="ci-dot" />
          </g>
        );
      })}
    </svg>
  );
}
