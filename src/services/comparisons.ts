/**
 * `:compare`: one job against a baseline, row by row (docs/api.md, "Comparing two jobs").
 * The statistics live in domain/comparison.ts and domain/paired-stats.ts; this reads both jobs'
 * stored results (and, for a join by key, their input rows), keeps recent comparisons in
 * memory (finished jobs do not change, so a page after the summary costs a slice, not a
 * recomputation) and pages through the per-row diff.
 */
import { failedPrecondition, invalidArgument, notFound } from '../domain/errors.js';
import { Comparison, ComparisonSide, joinKeyOf, pairByIndex, pairByKey, parseJoinKey, type ComparisonOrder, type RowStatus } from '../domain/comparison.js';
import { isTerminal, runsOf, type JobRecord } from '../domain/jobs.js';
import { outputIndexOf } from '../domain/rollout.js';
import { parseResourceName } from '../domain/names.js';
import type { Store } from '../store/index.js';
import { RawJson } from '../domain/raw-json.js';

export interface CompareRequest {
  baseline: string;
  joinKey?: string | undefined;
}

export interface ComparePageRequest extends CompareRequest {
  statuses: RowStatus[];
  order: ComparisonOrder;
  pageSize: number;
  pageToken?: string | undefined;
  /** Include both jobs' output rows with each compared row. */
  withRows: boolean;
}

export interface ComparedSide {
  index: number;
  score: number;
  isScoreValid: boolean;
  errorKind: string;
  metrics: Record<string, number>;
  row?: unknown;
}

export interface ComparedRow {
  status: RowStatus;
  /** candidate - baseline effective score; null when only one side has the row. */
  diff: number | null;
  key?: string;
  baseline: ComparedSide | null;
  candidate: ComparedSide | null;
}

export interface ComparisonOptions {
  /** Comparisons kept in memory (each about 30 bytes a row). @default 4 */
  cachedComparisons?: number;
  /** Summaries kept (a few hundred bytes each): a leaderboard's standings ask one per job. @default 1000 */
  cachedSummaries?: number;
}

/** Chunks' results read at once (1,000 rows each by default). */
const CHUNK_PAGE = 20;
const INPUT_PAGE = 2000;
const MAX_PAGE_SIZE = 1000;

export function createComparisonService(store: Store, { cachedComparisons = 4, cachedSummaries = 1000 }: ComparisonOptions = {}) {
  const cache = new Map<string, Promise<Comparison>>();
  // A board of many jobs asks a summary of each against its leader at every look: kept apart from
  // the comparisons (a few kept, tens of MB each at a million rows), so it never recomputes them.
  const summaries = new Map<string, Comparison['summary']>();

  const finishedJob = async (accountId: string, id: string, field: string): Promise<JobRecord> => {
    const job = await store.jobs.get(accountId, id);
    if (!job) throw notFound(`${field}: evaluation job "accounts/${accountId}/evaluationJobs/${id}" not found`);
    if (!isTerminal(job.state)) throw failedPrecondition(`${field}: evaluation job "${id}" is ${job.state}; compare jobs once they have finished`);
    return job;
  };

  /** The two jobs, checked to be comparable, and the key their comparison is kept under. */
  async function pairOf(accountId: string, jobId: string, request: CompareRequest) {
    if (!request.baseline) throw invalidArgument('baseline: is required (the job to compare against)');
    const baselineId = parseResourceName(request.baseline, { accountId, collection: 'evaluationJobs', field: 'baseline' }).id;
    const joinPath = request.joinKey ? parseJoinKey(request.joinKey) : undefined;
    const candidate = await finishedJob(accountId, jobId, 'evaluationJob');
    const baseline = await finishedJob(accountId, baselineId, 'baseline');
    if (runsOf(baseline) !== runsOf(candidate)) {
      throw failedPrecondition(
        `baseline: job "${jobId}" made ${runsOf(candidate)} run(s) of each row and "${baselineId}" made ${runsOf(baseline)}; ` +
          'compare jobs with the same numRuns (each run is paired with the same run of the other job)',
      );
    }
    if (!joinPath && baseline.inputRowSetId !== candidate.inputRowSetId) {
      throw failedPrecondition(
        `baseline: jobs "${jobId}" and "${baselineId}" scored different input rows (datasets "${candidate.inputDatasetId}" and "${baseline.inputDatasetId}"); ` +
          'name joinKey (e.g. joinKey=input_metadata.row_id) to pair rows by a field of the input rows',
      );
    }
    return { baseline, candidate, joinPath, key: comparisonKey(accountId, candidate, baseline, request) };
  }

  async function comparison(accountId: string, jobId: string, request: CompareRequest): Promise<{ value: Comparison; baseline: JobRecord; candidate: JobRecord; key: string }> {
    const { baseline, candidate, joinPath, key } = await pairOf(accountId, jobId, request);
    let pending = cache.get(key);
    if (!pending) {
      pending = compute(baseline, candidate, joinPath && { path: joinPath, name: request.joinKey! });
      remember(key, pending);
    } else {
      cache.delete(key);
      cache.set(key, pending);
    }
    return { value: await pending, baseline, candidate, key };
  }

  function remember(key: string, pending: Promise<Comparison>): void {
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
    while (cache.size > Math.max(1, cachedComparisons)) cache.delete(cache.keys().next().value!);
  }

  async function compute(baseline: JobRecord, candidate: JobRecord, join?: { path: string[]; name: string }): Promise<Comparison> {
    const [b, c] = [await readSide(store, baseline), await readSide(store, candidate)];
    if (!join) return new Comparison(b, c, pairByIndex(b, c));
    const keys = { baseline: await readKeys(store, baseline, join.path), candidate: await readKeys(store, candidate, join.path) };
    return new Comparison(b, c, pairByKey({ baseline: b, candidate: c }, keys, join.name));
  }

  return {
    async summary(accountId: string, jobId: string, request: CompareRequest) {
      const pair = await pairOf(accountId, jobId, request);
      const kept = summaries.get(pair.key);
      if (kept) {
        summaries.delete(pair.key);
        summaries.set(pair.key, kept);
        return kept;
      }
      const { value, key } = await comparison(accountId, jobId, request);
      summaries.set(key, value.summary);
      while (summaries.size > Math.max(1, cachedSummaries)) summaries.delete(summaries.keys().next().value!);
      return value.summary;
    },

    async page(accountId: string, jobId: string, request: ComparePageRequest) {
      const { value, baseline, candidate } = await comparison(accountId, jobId, request);
      const view = value.view(request.statuses, request.order);
      const viewKey = `${request.statuses.join(',')}|${request.order}`;
      const offset = decodeToken(request.pageToken, viewKey);
      const size = Math.min(MAX_PAGE_SIZE, request.pageSize || 50);
      const rows = Array.from(view.subarray(offset, offset + size));
      const items = rows.map((row) => comparedRow(value, row));
      if (request.withRows) await attachRows(store, items, { baseline, candidate });
      const next = offset + size < view.length ? encodeToken(offset + size, viewKey) : '';
      return { baselineId: baseline.id, summary: value.summary, items, nextPageToken: next, totalSize: view.length };
    },
  };
}

export type ComparisonService = ReturnType<typeof createComparisonService>;

/** Finished jobs do not change; the update times are in the key all the same, in case one was re-run under its name. */
function comparisonKey(accountId: string, candidate: JobRecord, baseline: JobRecord, request: CompareRequest): string {
  return [accountId, candidate.id, candidate.updateTime, baseline.id, baseline.updateTime, request.joinKey ?? ''].join('\n');
}

async function readSide(store: Store, job: JobRecord): Promise<ComparisonSide> {
  const side = new ComparisonSide();
  for (let after = -1; ; ) {
    const chunks = await store.jobs.readChunkResults(job, after, CHUNK_PAGE);
    if (chunks.length === 0) break;
    for (const chunk of chunks) for (const result of chunk.results) side.add(result);
    after = chunks[chunks.length - 1]!.index;
  }
  side.sortByIndex();
  return side;
}

/**
 * The join key of every output row of the job, by row index, from its input row (rows without
 * one are left out). A job of k runs has k output rows an input row: run r's key is the input
 * row's with " (run r)" after it, so runs pair with the same run of the other job.
 */
async function readKeys(store: Store, job: JobRecord, path: string[]): Promise<Map<number, string>> {
  const keys = new Map<number, string>();
  const runs = runsOf(job);
  for (let after = -1; ; ) {
    const rows = await store.rows.read(job.inputRowSetId, after, INPUT_PAGE);
    if (rows.length === 0) break;
    for (const row of rows) {
      const key = joinKeyOf(JSON.parse(row.data), path);
      if (key === undefined) continue;
      if (runs === 1) keys.set(row.idx, key);
      else for (let run = 0; run < runs; run++) keys.set(outputIndexOf(row.idx, run, runs), `${key} (run ${run})`);
    }
    after = rows[rows.length - 1]!.idx;
  }
  return keys;
}

function sideOf(side: ComparisonSide, at: number): ComparedSide | null {
  if (at < 0) return null;
  const metrics: Record<string, number> = {};
  for (const [name, column] of side.metrics) if (Number.isFinite(column[at])) metrics[name] = column[at]!;
  return { index: side.idx[at]!, score: side.score[at]!, isScoreValid: side.valid[at] === 1, errorKind: side.errors.get(at) ?? '', metrics };
}

function comparedRow(value: Comparison, row: number): ComparedRow {
  const diff = value.diff[row]!;
  const key = value.pairing.keys?.[row];
  return {
    status: value.statusOf(row),
    diff: Number.isNaN(diff) ? null : diff,
    ...(key === undefined ? {} : { key }),
    baseline: sideOf(value.baseline, value.pairing.baseline[row]!),
    candidate: sideOf(value.candidate, value.pairing.candidate[row]!),
  };
}

/** Both jobs' output rows (input row with its evaluation), for side-by-side views. */
async function attachRows(store: Store, items: ComparedRow[], jobs: { baseline: JobRecord; candidate: JobRecord }): Promise<void> {
  for (const which of ['baseline', 'candidate'] as const) {
    const sides = items.map((item) => item[which]).filter((s): s is ComparedSide => s !== null);
    const texts = await store.rows.readAt(jobs[which].outputRowSetId, sides.map((s) => s.index));
    for (const side of sides) {
      const text = texts.get(side.index);
      // Sent as the stored text: a row too deep for JSON.stringify must not fail the page.
      side.row = text === undefined ? null : new RawJson(text);
    }
  }
}

function encodeToken(offset: number, viewKey: string): string {
  return Buffer.from(JSON.stringify({ o: offset, v: viewKey })).toString('base64url');
}

function decodeToken(token: string | undefined, viewKey: string): number {
  if (!token) return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const { o, v } = (parsed ?? {}) as { o?: unknown; v?: unknown };
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0) throw invalidArgument('pageToken: is not a token this method returned');
  if (v !== viewKey) throw invalidArgument('pageToken: was returned for another status or orderBy; pass the same ones to page on');
  return o;
}
