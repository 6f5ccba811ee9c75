/**
 * `tally job compare <baseline> <candidate>`: the `:compare` method as a summary and a table of
 * compared rows, regressions first (or every compared row as CSV / JSONL).
 */
import type { Command } from 'commander';
import type { Json } from './api-client.js';
import { withClientOptions } from './client-config.js';
import { clientAction, printJson, usageError, type ClientContext } from './client-command.js';
import { csvLine } from '../domain/csv.js';
import { formatNumber, keyValues, table } from './terminal.js';

const FORMATS = ['table', 'csv', 'jsonl'];

export function registerCompareCommand(job: Command): void {
  withClientOptions(job.command('compare <baseline> <candidate>').description('compare a job with a baseline job row by row, regressions first'))
    .option('--join-key <path>', 'pair rows by this field of the input rows (e.g. input_metadata.row_id) instead of by index')
    .option('--status <list>', 'only these rows: regressed, improved, unchanged, only_baseline, only_candidate, changed (comma-separated)')
    .option('--order <order>', 'diff (regressions first), "diff desc" or index', 'diff')
    .option('--limit <n>', 'at most N rows (default: 20 in a table, every row as csv/jsonl)')
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`, 'table')
    .action(clientAction(async (context, baseline, candidate) => compareCommand(context, baseline!, candidate!)));
}

async function compareCommand(context: ClientContext, baseline: string, candidate: string): Promise<void> {
  const { options, command } = context;
  const format = options['format'] as string;
  if (!FORMATS.includes(format)) usageError(command, `--format: "${format}" is not one of ${FORMATS.join(', ')}`);
  const limitText = options['limit'] as string | undefined;
  const limit = limitText === undefined ? (format === 'table' && !context.json ? 20 : Infinity) : Number(limitText);
  if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 1))) usageError(command, `--limit: expected a positive integer, got "${limitText}"`);
  const query = { baseline, joinKey: options['joinKey'] as string | undefined, status: options['status'] as string | undefined, orderBy: options['order'] as string };
  const path = await context.api.path(`evaluationJobs/${candidate}:compare`);
  let first: Json | undefined;
  const rows: Json[] = [];
  for (let pageToken: string | undefined; ; ) {
    const page = await context.api.call('GET', path, undefined, { ...query, pageSize: Math.min(1000, limit - rows.length), pageToken });
    first ??= page;
    rows.push(...((page['rows'] as Json[] | undefined) ?? []));
    pageToken = (page['nextPageToken'] as string | undefined) || undefined;
    if (!pageToken || rows.length >= limit) break;
  }
  if (context.json) return printJson(context.output, { ...first, rows, nextPageToken: undefined });
  if (format === 'jsonl') return void context.output.out.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  if (format === 'csv') return void context.output.out.write(comparisonCsv(rows));
  context.output.out.write(`${summaryText(first!['summary'] as Json)}\n${rowsTable(rows)}`);
  const total = Number(first!['totalSize'] ?? rows.length);
  if (total > rows.length) context.output.out.write(`(${rows.length} of ${total} rows; --limit to see more)\n`);
}

type Side = { index: number; score: number; errorKind: string } | null;

export function comparisonCsv(rows: Json[]): string {
  const lines = [csvLine(['status', 'key', 'baseline_index', 'candidate_index', 'baseline_score', 'candidate_score', 'diff', 'baseline_error', 'candidate_error'])];
  for (const r of rows) {
    const [b, c] = [r['baseline'] as Side, r['candidate'] as Side];
    lines.push(csvLine([r['status'], r['key'], b?.index, c?.index, b?.score, c?.score, r['diff'], b?.errorKind, c?.errorKind]));
  }
  return lines.join('');
}

/** p-values span many orders of magnitude: small ones in exponent form. */
const formatP = (p: unknown) => (typeof p === 'number' && p > 0 && p < 1e-4 ? p.toExponential(2) : formatNumber(p));

function summaryText(summary: Json): string {
  const score = summary['score'] as Json;
  const ci = `[${formatNumber(score['ci95Low'])}, ${formatNumber(score['ci95High'])}]`;
  const counts = ['regressed', 'improved', 'unchanged', 'onlyInBaseline', 'onlyInCandidate'].map((k) => `${k} ${summary[k]}`).join(', ');
  const metrics = Object.entries((summary['metrics'] as Record<string, Json> | undefined) ?? {}).map(([name, m]): [string, unknown] => [
    `metric ${name}`, `${formatNumber(m['meanDiff'])} (p ${formatP(m['pValue'])})`,
  ]);
  return keyValues([
    ['rows', `${summary['rows']}: ${counts}`],
    ['score diff', `${formatNumber(score['meanDiff'])} (95% CI ${ci}) over ${score['pairs']} pairs`],
    ['p-value', `${formatP(score['pValue'])} (${score['test']})`],
    ...metrics,
  ]);
}

function rowsTable(rows: Json[]): string {
  const cells = rows.map((r) => {
    const [b, c] = [r['baseline'] as Side, r['candidate'] as Side];
    return [String(r['status']), r['key'] === undefined ? String(c?.index ?? b?.index) : String(r['key']), formatNumber(b?.score), formatNumber(c?.score), formatNumber(r['diff']), c?.errorKind || b?.errorKind || ''];
  });
  return table(['STATUS', 'ROW', 'BASELINE', 'CANDIDATE', 'DIFF', 'ERROR'], cells);
}
