import type { Command } from 'commander';
import type { ApiClient, Json } from './api-client.js';
import { withClientOptions } from './client-config.js';
import { clientAction, idOf, listAll, printJson, usageError, type ClientContext } from './client-command.js';
import { registerCompareCommand } from './compare-command.js';
import { isSuccessful, jobSummary, metricsTable, shortState, watchJob } from './job-view.js';
import { formatNumber, table, type Output } from './terminal.js';
import { rolloutFromOptions, withRolloutOptions } from './rollout-options.js';

const RESULT_FORMATS = ['table', 'jsonl', 'csv'];

export function registerJobCommands(program: Command): void {
  const job = program.command('job').description('run and inspect evaluation jobs on a Tally server');
  withRolloutOptions(withClientOptions(job.command('create').description('create an evaluation job')))
    .requiredOption('--evaluator <id>', 'evaluator id or resource name')
    .requiredOption('--dataset <id>', 'input dataset id or resource name')
    .option('--output-dataset <id>', 'output dataset id (default: derived from the job id)')
    .option('--id <jobId>', 'job id (default: generated)')
    .option('--display-name <name>', 'display name')
    .option('--watch', 'follow the job to its end and print its metrics')
    .option('--no-cache', 'score every row again instead of answering unchanged rows from the score cache')
    .action(clientAction(async (context) => createJobCommand(context)));
  withClientOptions(job.command('list').description('list evaluation jobs')).action(clientAction(async (context) => {
    const jobs = await listAll(context, await context.api.path('evaluationJobs'), 'evaluationJobs');
    if (context.json) return printJson(context.output, { evaluationJobs: jobs });
    const rows = jobs.map((j) => {
      const p = (j['progress'] as { rowsDone?: number; rowsTotal?: number } | undefined) ?? {};
      const score = (j['metrics'] as Record<string, number> | undefined)?.['score'];
      return [idOf(j), shortState(j['state']), last(j['evaluator']), last(j['inputDataset']), `${p.rowsDone ?? 0}/${p.rowsTotal ?? 0}`, formatNumber(score), j['createTime'] as string];
    });
    context.output.out.write(table(['ID', 'STATE', 'EVALUATOR', 'DATASET', 'ROWS', 'SCORE', 'CREATED'], rows));
  }));
  withClientOptions(job.command('get <jobId>').description('show a job with its progress and metrics')).action(clientAction(async (context, id) => {
    printJob(context, await context.api.call('GET', await context.api.path(`evaluationJobs/${id}`)));
  }));
  withClientOptions(job.command('cancel <jobId>').description('cancel a job, keeping the rows already scored')).action(clientAction(async (context, id) => {
    const cancelled = await context.api.call('POST', await context.api.path(`evaluationJobs/${id}:cancel`), {});
    if (context.json) return printJson(context.output, cancelled);
    context.output.out.write(`job ${id}: ${shortState(cancelled['state'])}\n`);
  }));
  withClientOptions(job.command('results <jobId>').description('print scored rows'))
    .option('--worst <n>', 'only the N lowest-scoring rows')
    .option('--format <format>', `output format: ${RESULT_FORMATS.join(', ')}`, 'table')
    .action(clientAction(async (context, id) => resultsCommand(context, id!)));
  registerCompareCommand(job);
}

const last = (name: unknown) => String(name ?? '').split('/').pop();

async function createJobCommand(context: ClientContext): Promise<void> {
  const { api, options } = context;
  const id = (options['id'] as string | undefined) ?? generatedJobId();
  let rollout: Json | undefined;
  try {
    rollout = rolloutFromOptions(options);
  } catch (error: unknown) {
    usageError(context.command, (error as Error).message);
  }
  const job = await createJob(api, {
    rollout,
    id,
    evaluator: options['evaluator'] as string,
    dataset: options['dataset'] as string,
    outputDataset: options['outputDataset'] as string | undefined,
    displayName: options['displayName'] as string | undefined,
    cache: options['cache'] !== false,
  });
  if (!options['watch']) return printJob(context, job);
  const finished = await watchJob(api, context.output, id);
  finishJob(context.output, finished, context.json);
}

export interface JobSpec {
  id: string;
  evaluator: string;
  dataset: string;
  outputDataset?: string;
  displayName?: string;
  /** The job's `rollout` (rollout-options.ts). */
  rollout?: Json;
  /** false: the job's `settings.cache: false` (every row scored again). */
  cache?: boolean;
}

export async function createJob(api: ApiClient, spec: JobSpec): Promise<Json> {
  const evaluationJob: Json = {
    evaluator: await api.resourceName('evaluators', spec.evaluator),
    inputDataset: await api.resourceName('datasets', spec.dataset),
    outputDataset: await api.resourceName('datasets', spec.outputDataset ?? `${spec.id}-output`.slice(0, 63)),
  };
  if (spec.displayName) evaluationJob['displayName'] = spec.displayName;
  if (spec.rollout) evaluationJob['rollout'] = spec.rollout;
  if (spec.cache === false) evaluationJob['settings'] = { cache: false };
  return api.call('POST', await api.path('evaluationJobs'), { evaluationJobId: spec.id, evaluationJob });
}

/** A client-side id so the default output dataset can be named after the job. */
export function generatedJobId(): string {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(2, 14);
  return `job-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Prints the final job (metrics table, or JSON); a job that did not complete is a failure. */
export function finishJob(output: Output, job: Json, json: boolean): void {
  if (json) printJson(output, job);
  else output.out.write(`${jobSummary(job)}\n${metricsTable(job['metrics'] as Record<string, number> | undefined)}`);
  assertCompleted(job);
}

export function assertCompleted(job: Json): void {
  if (!isSuccessful(job)) {
    const message = (job['status'] as { message?: string } | undefined)?.message;
    throw new Error(`job ${idOf(job)} ended ${job['state']}${message ? `: ${message}` : ''}`);
  }
}

function printJob(context: ClientContext, job: Json): void {
  if (context.json) return printJson(context.output, job);
  const metrics = job['metrics'] as Record<string, number> | undefined;
  context.output.out.write(jobSummary(job) + (metrics && Object.keys(metrics).length ? `\n${metricsTable(metrics)}` : ''));
}

async function resultsCommand(context: ClientContext, id: string): Promise<void> {
  const format = context.options['format'] as string;
  if (!RESULT_FORMATS.includes(format)) usageError(context.command, `--format: "${format}" is not one of ${RESULT_FORMATS.join(', ')}`);
  const worstText = context.options['worst'] as string | undefined;
  const worst = worstText === undefined ? undefined : Number(worstText);
  if (worst !== undefined && (!Number.isInteger(worst) || worst < 1)) usageError(context.command, `--worst: expected a positive integer, got "${worstText}"`);
  const path = await context.api.path(`evaluationJobs/${id}:listResults`);
  const results = worst === undefined
    ? await listAll(context, path, 'results', { orderBy: 'index' })
    : ((await context.api.call('GET', path, undefined, { orderBy: 'score', pageSize: worst }))['results'] as Json[] | undefined) ?? [];
  if (context.json) return printJson(context.output, { results });
  context.output.out.write(formatResults(results, format));
}

const reasonOf = (r: Json) => String(((r['row'] as Json | undefined)?.['evaluation_result'] as Json | undefined)?.['reason'] ?? '');

export function formatResults(results: Json[], format: string): string {
  if (format === 'jsonl') return results.map((r) => `${JSON.stringify(r)}\n`).join('');
  const fields = (r: Json) => [r['index'], r['score'], r['isScoreValid'], r['errorKind'] ?? '', r['ms'], reasonOf(r)] as unknown[];
  if (format === 'csv') {
    const cell = (v: unknown) => {
      const text = v === null || v === undefined ? '' : String(v);
      return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    return ['index,score,is_score_valid,error_kind,ms,reason', ...results.map((r) => fields(r).map(cell).join(','))].join('\n') + '\n';
  }
  const rows = results.map((r) => fields(r).map((v, i) => (i === 5 ? String(v).replace(/\s+/g, ' ').slice(0, 60) : typeof v === 'number' ? formatNumber(v) : String(v ?? ''))));
  return table(['INDEX', 'SCORE', 'VALID', 'ERROR', 'MS', 'REASON'], rows);
}
