import type { Result } from '../api.js';
import { Conversation, Json, fmtNum } from '../ui.js';
import { fmtMs } from './job-state.js';
import { RolloutSideBySide } from './rollout-view.js';

export interface Evaluation {
  score?: number;
  is_score_valid?: boolean;
  reason?: string | null;
  error?: string;
  metrics?: Record<string, { score?: number; reason?: string | null; is_score_valid?: boolean }>;
}

export function ResultView({ result, onClose }: { result: Result; onClose: () => void }) {
  const row = result.row;
  const evaluation = (row['evaluation_result'] ?? row['eval_details'] ?? {}) as Evaluation;
  const { messages, ground_truth, evaluation_result: _e, eval_details: _d, evals: _s, ...rest } = row;
  void _e;
  void _d;
  void _s;
  const metrics = Object.entries(evaluation.metrics ?? {});
  return (
    <section className="card result-view" data-testid="result-view">
      <div className="page-head">
        <h2>Row #{result.index}</h2>
        <span className={`badge ${result.errorKind ? 'bad' : result.isScoreValid ? 'ok' : 'wait'}`}>
          {result.errorKind ? `error: ${result.errorKind}` : result.isScoreValid ? 'valid' : 'invalid'}
        </span>
        <span className="spacer" />
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <dl className="facts">
        <dt>Score</dt>
        <dd data-testid="result-score">{fmtNum(result.score)}</dd>
        <dt>Reason</dt>
        <dd data-testid="result-reason">{evaluation.reason ?? '—'}</dd>
        <dt>Ground truth</dt>
        <dd data-testid="ground-truth" className="mono">
          {ground_truth === undefined ? '—' : typeof ground_truth === 'string' ? ground_truth : JSON.stringify(ground_truth)}
        </dd>
        <dt>Time</dt>
        <dd>{fmtMs(result.ms)} ms</dd>
        {evaluation.error ? (
          <>
            <dt>Error</dt>
            <dd className="bad-text" data-testid="result-error">
              {evaluation.error}
            </dd>
          </>
        ) : null}
      </dl>
      {metrics.length ? (
        <>
          <h3>Metrics</h3>
          <table className="table compact">
            <thead>
              <tr>
                <th>Metric</th>
                <th className="num">Score</th>
                <th>Valid</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {metrics.map(([name, m]) => (
                <tr key={name}>
                  <td className="mono">{name}</td>
                  <td className="num">{fmtNum(m.score)}</td>
                  <td>{m.is_score_valid === false ? 'no' : 'yes'}</td>
                  <td>{m.reason || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      <RolloutSideBySide result={result} />
      <h3>Conversation</h3>
      <Conversation messages={messages} />
      {Object.keys(rest).length ? (
        <>
          <h3>Other fields</h3>
          <Json value={rest} />
        </>
      ) : null}
    </section>
  );
}
