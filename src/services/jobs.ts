import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../domain/errors.js';
import { evenRanges, groupAlignedRanges, groupKeyOf, plannedChunkRows, type Range } from '../domain/chunking.js';
import type { EvaluatorMode, EvaluatorRecord } from '../domain/evaluators.js';
import { metricNamesOf, rowCsvColumns, rowCsvHeader, rowCsvLine } from '../domain/csv.js';
import { DEFAULT_JOB_SETTINGS, isTerminal, runsOf, type AwsS3Config, type JobRecord, type JobSettings, type RowResult } from '../domain/jobs.js';
import { MAX_PAGE_SIZE } from '../domain/listing.js';
import { generateId, parseResourceName } from '../domain/names.js';
import { nowIso, type DatasetRecord, type Principal, type SignedUrlRecord } from '../domain/types.js';
import type { ListPage, ListRequest, Store } from '../store/index.js';
import { finalizeCancelled } from './finalize.js';
import { evaluatorForNewJob, recordRevisionOfWaitingJobs } from './job-revision.js';
import { createRecordedJob, recordedResultsOf } from './recorded-jobs.js';
import { readRowSet } from './row-ingest.js';
import { ProgressSampler } from './job-progress.js';
import { rolloutOfJob } from './job-rollout.js';
import type { RolloutInput } from '../domain/rollout.js';
import type { SignedUrlService } from './signed-urls.js';

export interface JobInput {
  evaluator: string;
  inputDataset: string;
  outputDataset: string;
  displayName?: string;
  outputStats?: string;
  awsS3Config?: AwsS3Config;
  /** The evaluator revision to run (id, `latest`, `current` or an alias); default: the current one. */
  evaluatorVersion?: string | undefined;
  settings: Partial<JobSettings>;
  /** A model call before scoring (a Tally extension; services/job-rollout.ts). */
  rollout?: RolloutInput;
}

export interface JobProgressView {
  rowsTotal: number;
  rowsDone: number;
  rowsErrored: number;
  /** Rows answered from the score cache. */
  rowsCached: number;
  /** Tally: rows/s over about the last minute (services/job-progress.ts); absent until an interval was seen. */
  recentRowsPerSecond?: number;
  /** Tally: rows of the job's leased chunks, being scored now (read on a single job's GET only). */
  rowsInFlight?: number;
  rowsPerSecond: number;
  estimatedSecondsLeft: number | null;
  /** Jobs with a rollout step: model calls finished so far, of rowsTotal. */
  rolloutsDone?: number;
}

export interface JobEvents {
  /** A job became runnable (created with an ACTIVE evaluator, or its evaluator finished building). */
  onRunnable?(): void;
}

export function createJobService(store: Store, signedUrls: SignedUrlService, defaults: Partial<JobSettings> = {}, events: JobEvents = {}, planning = { slots: 1 }) {
  const sampler = new ProgressSampler();
  const get = async (accountId: string, id: string): Promise<JobRecord> => {
    const job = await store.jobs.get(accountId, id);
    if (!job) throw notFound(`evaluation job "accounts/${accountId}/evaluationJobs/${id}" not found`);
    return job;
  };

  return {
    get,
    list: (accountId: string, request: ListRequest): Promise<ListPage<JobRecord>> => store.jobs.list(accountId, request),

    async create(principal: Principal, input: { evaluationJobId?: string; job: JobInput; leaderboardIds: string[] }): Promise<JobRecord> {
      const { accountId } = principal;
      const id = input.evaluationJobId || generateId();
      const names = parseNames(accountId, id, input.job);
      if (await store.jobs.get(accountId, id)) throw alreadyExists(`evaluationJobId: evaluation job "${id}" already exists`);
      const recorded = await recordedResultsOf(store, accountId, names);
      if (recorded) {
        await checkLeaderboards(store, accountId, input.leaderboardIds);
        return createRecordedJob(store, { principal, id, displayName: input.job.displayName, names, output: recorded, leaderboardIds: input.leaderboardIds });
      }
      const named = await store.evaluators.get(accountId, names.evaluatorId);
      if (!named) throw notFound(`evaluationJob.evaluator: evaluator "${input.job.evaluator}" not found`);
      const { evaluator, revisionId } = await evaluatorForNewJob(store, named, input.job.evaluatorVersion);
      const inputDataset = await readyInput(store, accountId, names.inputDatasetId, input.job.inputDataset);
      await checkLeaderboards(store, accountId, input.leaderboardIds);
      const settings: JobSettings = { ...DEFAULT_JOB_SETTINGS, ...defaults, ...input.job.settings, egress: evaluator.spec.allowEgress === true, ...chunkPlan(input.job.settings, inputDataset.exampleCount, planning.slots) };
      const rollout = await rolloutOfJob(store, accountId, input.job.rollout, evaluator);
      if (rollout) settings.rollout = rollout;
      const job = newJob({ principal, id, input: input.job, names, settings, inputDataset, evaluator, leaderboardIds: input.leaderboardIds });
      if (revisionId) job.evaluatorRevision = revisionId;
      await createOutputDataset(store, principal, names.outputDatasetId, id, input.job.outputDataset);
      try {
        job.outputRowSetId = await store.rows.createSet(accountId, { base: job.inputRowSetId });
        await store.jobs.create(job, { runnable: evaluator.state === 'ACTIVE', ranges: await planChunks(store, job, evaluator.mode) });
        if (evaluator.state === 'ACTIVE') events.onRunnable?.();
      } catch (error: unknown) {
        await store.datasets.delete(accountId, names.outputDatasetId);
        throw error;
      }
      return job;
    },

    async delete(accountId: string, id: string): Promise<void> {
      const job = await get(accountId, id);
      if (!isTerminal(job.state)) await store.jobs.update(accountId, id, { state: 'JOB_STATE_CANCELLING', updateTime: nowIso() });
      await store.jobs.delete(accountId, id);
      await store.rows.deleteSetIfUnused(job.inputRowSetId);
    },

    /** `:cancel`: CANCELLING until no worker holds a chunk, then CANCELLED with the rows scored so far. */
    async cancel(accountId: string, id: string): Promise<JobRecord> {
      const job = await get(accountId, id);
      if (isTerminal(job.state)) throw failedPrecondition(`evaluation job "${id}" is already ${job.state}`);
      await store.jobs.update(accountId, id, { state: 'JOB_STATE_CANCELLING', status: { code: 'CANCELLED', message: 'cancelled by the user' }, updateTime: nowIso() }, {
        ifStates: ['JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_CREATING'],
      });
      const chunks = await store.jobs.countChunks(accountId, id);
      if (chunks.leased === 0) await finalizeCancelled(store, accountId, id);
      return get(accountId, id);
    },

    progress(job: JobRecord): JobProgressView {
      const { rowsTotal, rowsDone, rowsErrored, startTime, endTime } = job.progress;
      const end = endTime ? Date.parse(endTime) : Date.now();
      const seconds = startTime ? Math.max(0.001, (end - Date.parse(startTime)) / 1000) : 0;
      const rowsPerSecond = seconds > 0 ? rowsDone / seconds : 0;
      const left = rowsTotal - rowsDone;
      const recent = sampler.recentRate(job);
      // The time left follows the recent pace once there is one: a slow job's start says little.
      const pace = recent !== undefined && recent > 0 ? recent : rowsPerSecond;
      const view: JobProgressView = {
        rowsTotal, rowsDone, rowsErrored, rowsCached: job.progress.rowsCached ?? 0, rowsPerSecond,
        ...(recent === undefined ? {} : { recentRowsPerSecond: recent }),
        estimatedSecondsLeft: isTerminal(job.state) ? 0 : pace > 0 ? left / pace : null,
      };
      // A chunk leased again sends its rollouts again: the count never shows more than the rows.
      if (job.settings.rollout) view.rolloutsDone = Math.min(rowsTotal, Math.max(rowsDone, job.progress.rolloutsDone ?? 0));
      return view;
    },

    /** progress() and the rows being scored right now (one more query: for a single job's GET). */
    async liveProgress(job: JobRecord): Promise<JobProgressView> {
      const view = this.progress(job);
      // Chunks hold input rows; a job of k runs makes k output rows of each, as rowsTotal counts them.
      return isTerminal(job.state) ? { ...view, rowsInFlight: 0 } : { ...view, rowsInFlight: (await store.jobs.rowsInFlight(job.accountId, job.id)) * runsOf(job) };
    },

    async listResults(accountId: string, id: string, request: ListRequest) {
      const job = await get(accountId, id);
      return store.jobs.listResults(job.outputRowSetId, request);
    },

    /**
     * Every result the query matches (filter, orderBy; no paging) as CSV, page by page, so memory
     * stays flat however many rows the job has. The job and the query are checked (the first page
     * read) before the first byte, so their errors still get the error envelope.
     */
    async resultsCsv(accountId: string, id: string, request: ListRequest): Promise<AsyncGenerator<string>> {
      const job = await get(accountId, id);
      const pages = request.filter || (request.orderBy && request.orderBy.trim() !== 'index') ? queriedResults(store, job, request) : resultsInIndexOrder(store, job);
      const first = await pages.next();
      return resultsCsvLines(job, first.done ? [] : first.value, pages);
    },

    async getExecutionLogEndpoint(accountId: string, id: string, baseUrl: string): Promise<string> {
      await get(accountId, id);
      if ((await store.jobs.readLog(accountId, id, 0, 1)).length === 0) return '';
      return signedUrls.issue({ accountId, purpose: 'download', targetKind: 'job', targetId: id, filename: 'execution.log', size: 0, baseUrl });
    },

    /** The GET of a signed execution-log URL: every line the evaluator printed, in order. */
    async *openLog(url: SignedUrlRecord): AsyncGenerator<string> {
      for (let after = 0; ; ) {
        const lines = await store.jobs.readLog(url.accountId, url.targetId, after, 2000);
        if (lines.length === 0) return;
        yield lines.map((l) => `${l.time} ${l.text}\n`).join('');
        after = lines[lines.length - 1]!.id;
      }
    },

    /** Jobs waiting for an evaluator's build run once it is ACTIVE, and fail if it did not build. */
    async onBuildFinished(evaluator: EvaluatorRecord): Promise<void> {
      if (evaluator.state === 'ACTIVE') {
        await recordRevisionOfWaitingJobs(store, evaluator);
        // Jobs created before the build knew its mode were cut for pointwise: re-cut them.
        if (evaluator.mode === 'groupwise' || evaluator.mode === 'all') {
          for (const job of await store.jobs.listWaitingFor(evaluator.accountId, evaluator.id)) {
            await store.jobs.replaceChunks(job.accountId, job.id, await planChunks(store, job, evaluator.mode));
          }
        }
        if ((await store.jobs.markRunnable(evaluator.accountId, evaluator.id)) > 0) events.onRunnable?.();
        return;
      }
      for (const job of await store.jobs.listWaitingFor(evaluator.accountId, evaluator.id)) {
        const message = `evaluator "${evaluator.id}" failed to build: ${evaluator.status.message}`;
        await store.jobs.update(job.accountId, job.id, { state: 'JOB_STATE_FAILED', status: { code: 'FAILED_PRECONDITION', message }, endTime: nowIso(), updateTime: nowIso() }, { ifStates: ['JOB_STATE_PENDING'] });
        await store.rows.deleteSetIfUnused(job.inputRowSetId);
      }
    },
  };
}

export type JobService = ReturnType<typeof createJobService>;

/** Without `chunkRows`, chunks follow the job's size and the slots, and workers cut them finer as they see the rows' pace. */
function chunkPlan(requested: Partial<JobSettings>, rows: number, slots: number): Partial<JobSettings> {
  return requested.chunkRows === undefined ? { chunkRows: plannedChunkRows(rows, slots), adaptiveChunks: true } : {};
}

type ResultWithRow = RowResult & { data: string };

/** The results query's pages (any filter or order), 200 results each. */
async function* queriedResults(store: Store, job: JobRecord, request: ListRequest): AsyncGenerator<ResultWithRow[]> {
  for (let pageToken = ''; ; ) {
    const page = await store.jobs.listResults(job.outputRowSetId, { filter: request.filter, orderBy: request.orderBy, pageSize: MAX_PAGE_SIZE, pageToken });
    yield page.items;
    if (!(pageToken = page.nextPageToken)) return;
  }
}

/** Every result in row order, two done chunks at a time: each chunk's results are one value. */
async function* resultsInIndexOrder(store: Store, job: JobRecord): AsyncGenerator<ResultWithRow[]> {
  for (let after = -1; ; ) {
    const chunks = await store.jobs.readChunkResults(job, after, 2);
    if (chunks.length === 0) return;
    const results = chunks.flatMap((c) => c.results);
    const rows = await store.rows.readAt(job.outputRowSetId, results.map((r) => r.idx));
    yield results.map((r) => ({ ...r, data: rows.get(r.idx) ?? '{}' }));
    after = chunks[chunks.length - 1]!.index;
  }
}

async function* resultsCsvLines(job: JobRecord, first: ResultWithRow[], rest: AsyncGenerator<ResultWithRow[]>): AsyncGenerator<string> {
  const parse = (r: { data: string }) => JSON.parse(r.data) as Record<string, unknown>;
  const columns = rowCsvColumns(first.slice(0, 100).map(parse), { metrics: metricNamesOf(job.metrics), extra: ['error_kind', 'ms'] });
  const lines = (page: ResultWithRow[]) => page.map((r) => rowCsvLine(columns, r.idx, parse(r), [r.errorKind, r.ms])).join('');
  yield rowCsvHeader(columns) + lines(first);
  for await (const page of rest) yield lines(page);
}

/** Chunks as the evaluator's mode needs them (domain/chunking.ts). */
async function planChunks(store: Store, job: JobRecord, mode: EvaluatorMode): Promise<Range[]> {
  // Chunks cut the input rows; each holds all runs of its rows.
  const total = job.progress.rowsTotal / runsOf(job);
  if (mode === 'all') return total > 0 ? [[0, total]] : [];
  if (mode !== 'groupwise') return evenRanges(total, job.settings.chunkRows);
  const keys: string[] = [];
  for await (const page of readRowSet(store, job.inputRowSetId)) for (const text of page) keys.push(groupKeyOf(JSON.parse(text), keys.length));
  return groupAlignedRanges(keys, job.settings.chunkRows);
}

interface JobNames {
  evaluatorId: string;
  inputDatasetId: string;
  outputDatasetId: string;
}

function parseNames(accountId: string, id: string, input: JobInput): JobNames {
  parseResourceName(id, { accountId, collection: 'evaluationJobs', field: 'evaluationJobId' });
  const required = (value: string, field: string) => {
    if (!value) throw invalidArgument(`evaluationJob.${field}: is required`);
    return value;
  };
  return {
    evaluatorId: parseResourceName(required(input.evaluator, 'evaluator'), { accountId, collection: 'evaluators', field: 'evaluationJob.evaluator' }).id,
    inputDatasetId: parseResourceName(required(input.inputDataset, 'inputDataset'), { accountId, collection: 'datasets', field: 'evaluationJob.inputDataset' }).id,
    outputDatasetId: parseResourceName(required(input.outputDataset, 'outputDataset'), { accountId, collection: 'datasets', field: 'evaluationJob.outputDataset' }).id,
  };
}

async function checkLeaderboards(store: Store, accountId: string, leaderboardIds: readonly string[]): Promise<void> {
  for (const leaderboardId of leaderboardIds) {
    if (!(await store.leaderboards.get(accountId, leaderboardId))) throw notFound(`leaderboardIds: leaderboard "${leaderboardId}" not found`);
  }
}

async function readyInput(store: Store, accountId: string, id: string, name: string): Promise<DatasetRecord> {
  const dataset = await store.datasets.get(accountId, id);
  if (!dataset) throw notFound(`evaluationJob.inputDataset: dataset "${name}" not found`);
  if (dataset.state !== 'READY' || dataset.rowSetId === null) {
    throw failedPrecondition(`evaluationJob.inputDataset: dataset "${name}" is ${dataset.state}, not READY: upload its rows first`);
  }
  return dataset;
}

async function createOutputDataset(store: Store, principal: Principal, id: string, jobId: string, name: string): Promise<void> {
  if (await store.datasets.get(principal.accountId, id)) {
    throw alreadyExists(`evaluationJob.outputDataset: dataset "${name}" already exists; the job creates its output dataset, so name a new one`);
  }
  const now = nowIso();
  await store.datasets.create({
    accountId: principal.accountId, id, displayName: id, createdBy: principal.keyId, createTime: now, updateTime: now,
    state: 'UPLOADING', status: { code: 'OK', message: `being written by evaluation job "${jobId}"` }, format: 'FORMAT_UNSPECIFIED',
    exampleCount: 0, averageTurnCount: 0, estimatedTokenCount: 0, origin: { evaluationResult: { evaluationJobId: jobId } }, rowSetId: null,
  });
}

function newJob(args: {
  principal: Principal; id: string; input: JobInput; names: JobNames; settings: JobSettings;
  inputDataset: DatasetRecord; evaluator: EvaluatorRecord; leaderboardIds: string[];
}): JobRecord {
  const { principal, id, input, names, settings, inputDataset, evaluator } = args;
  const now = nowIso();
  const failed = evaluator.state === 'BUILD_FAILED';
  const waiting = evaluator.state !== 'ACTIVE' && !failed;
  return {
    accountId: principal.accountId, id, displayName: input.displayName || id, createdBy: principal.keyId, createTime: now, updateTime: now,
    state: failed ? 'JOB_STATE_FAILED' : 'JOB_STATE_PENDING',
    status: failed
      ? { code: 'FAILED_PRECONDITION', message: `evaluator "${evaluator.id}" failed to build: ${evaluator.status.message}` }
      : { code: 'OK', message: waiting ? `waiting for evaluator "${evaluator.id}" to finish building` : '' },
    evaluatorId: names.evaluatorId, inputDatasetId: names.inputDatasetId, outputDatasetId: names.outputDatasetId,
    inputRowSetId: inputDataset.rowSetId!, outputRowSetId: 0, settings,
    progress: { rowsTotal: inputDataset.exampleCount * (settings.rollout?.numRuns ?? 1), rowsDone: 0, rowsErrored: 0, startTime: '', endTime: failed ? now : '' },
    metrics: {}, outputStats: input.outputStats ?? '', leaderboardIds: args.leaderboardIds,
    ...(input.awsS3Config ? { awsS3Config: input.awsS3Config } : {}),
  };
}
