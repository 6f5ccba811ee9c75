import type { ApiClient, Json } from './api-client.js';
import { rolloutMetricRows } from './rollout-options.js';
import { bar, formatNumber, formatSeconds, keyValues, sleep, StatusLine, table, type Output } from './terminal.js';

const TERMINAL_STATES = new Set(['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED', 'JOB_STATE_EARLY_STOPPED']);

interface Progress {
  rowsTotal?: number;
  rowsDone?: number;
  rowsErrored?: number;
  rowsPerSecond?: number;
  estimatedSecondsLeft?: number | null;
  recentRowsPerSecond?: number;
  rowsInFlight?: number;
  rolloutsDone?: number;
  /** Rows answered from the score cache. */
  rowsCached?: number;
}

export const shortState = (state: unknown) => String(state ?? '').replace(/^JOB_STATE_/, '');

export function progressText(id: string, job: Json): string {
  const p = (job['progress'] as Progress | undefined) ?? {};
  const total = p.rowsTotal ?? 0;
  const done = p.rowsDone ?? 0;
  // While it runs: the rows being scored now and the recent pace (a slow job's average misleads).
  const inFlight = p.rowsInFlight ? `  ${p.rowsInFlight} in flight` : '';
  const rate = TERMINAL_STATES.has(String(job['state'])) ? p.rowsPerSecond : (p.recentRowsPerSecond ?? p.rowsPerSecond);
  const rollouts = p.rolloutsDone === undefined ? '' : `rollouts ${p.rolloutsDone}/${total}, scored `;
  const cached = p.rowsCached ? `  ${p.rowsCached} from cache` : '';
  return `job ${id} ${shortState(job['state'])} ${bar(total ? done / total : 0)} ${rollouts}${done}/${total} rows  ${p.rowsErrored ?? 0} errors${cached}${inFlight}  ` +
    `${(rate ?? 0).toFixed(1)} rows/s  ${formatSeconds(p.estimatedSecondsLeft)} left`;
}

/** Polls a job until it ends, drawing its progress on stderr; answers the final job. */
export async function watchJob(api: ApiClient, output: Output, id: string, intervalMs = 400): Promise<Json> {
  const status = new StatusLine(output);
  for (;;) {
    const job = await api.call('GET', await api.path(`evaluationJobs/${id}`));
    const message = (job['status'] as { message?: string } | undefined)?.message;
    const key = `job ${id}: ${shortState(job['state'])}${message ? ` (${message})` : ''}`;
    if (TERMINAL_STATES.has(String(job['state']))) {
      status.update(progressText(id, job), key);
      status.done();
      return job;
    }
    status.update(progressText(id, job), key);
    await sleep(intervalMs);
  }
}

/** score with its 95% CI, valid rate, rows, errors, then every per-metric mean. */
export function metricsTable(metrics: Record<string, number> | undefined): string {
  if (!metrics || Object.keys(metrics).length === 0) return 'no metrics yet\n';
  const rows: [string, string][] = [];
  if (metrics['score'] !== undefined) {
    const ci = metrics['score_ci95_low'] !== undefined ? `  (95% CI ${formatNumber(metrics['score_ci95_low'])} .. ${formatNumber(metrics['score_ci95_high'])})` : '';
    rows.push(['score', `${formatNumber(metrics['score'])}${ci}`]);
  }
  if (metrics['valid_rate'] !== undefined) rows.push(['valid rate', `${(metrics['valid_rate'] * 100).toFixed(1)}%`]);
  rows.push(['rows', formatNumber(metrics['row_count'])], ['errors', formatNumber(metrics['error_count'])]);
  for (const [name, value] of Object.entries(metrics).sort(([a], [b]) => a.localeCompare(b))) {
    if (name.startsWith('metric.')) rows.push([name.slice('metric.'.length), formatNumber(value)]);
  }
  rows.push(...rolloutMetricRows(metrics));
  return table(['METRIC', 'VALUE'], rows);
}

export function jobSummary(job: Json): string {
  const status = job['status'] as { code?: string; message?: string } | undefined;
  return keyValues([
    ['id', String(job['name'] ?? '').split('/').pop()],
    ['state', shortState(job['state'])],
    ['status', status?.message],
    ['evaluator', job['evaluator']],
    ['input', job['inputDataset']],
    ['output', job['outputDataset']],
    ['progress', progressLine(job)],
    ['created', job['createTime']],
  ]);
}

function progressLine(job: Json): string | undefined {
  const p = job['progress'] as Progress | undefined;
  return p ? `${p.rowsDone ?? 0}/${p.rowsTotal ?? 0} rows, ${p.rowsErrored ?? 0} errors${p.rowsCached ? `, ${p.rowsCached} from the score cache` : ''}` : undefined;
}

export function isSuccessful(job: Json): boolean {
  return job['state'] === 'JOB_STATE_COMPLETED';
}
