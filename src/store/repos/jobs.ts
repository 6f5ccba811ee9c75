import { sql, type Kysely, type Transaction, type Updateable } from 'kysely';
import { JOB_STATES, RUNNABLE_JOB_STATES, type AwsS3Config, type ChunkLease, type JobRecord, type JobSettings, type JobState, type RowResult } from '../../domain/jobs.js';
import type { Range } from '../../domain/chunking.js';
import type { ListFields } from '../../domain/listing.js';
import type { ResourceStatus } from '../../domain/types.js';
import { insertMany, type BulkColumn } from '../bulk-insert.js';
import { alreadyExistsOnConflict } from '../conflicts.js';
import { listAccountPage, listPage } from '../listing.js';
import type { ChunkCompletion, Dialect, JobPatch, JobRepo, LeaseRequest } from '../port.js';
import type { Database, EvaluationJobsTable } from '../schema.js';
import { decodeChunkResults, encodeChunkResults } from './chunk-results.js';
import { readRowsAt, writeRows } from './row-blocks.js';
import { writeScoreCache } from './score-cache.js';
import { leaseOwnersWithPrefix, releaseLeasesOf } from './lease-owners.js';

export const JOB_LIST_FIELDS: ListFields = {
  evaluationJobId: { column: 'id', type: 'string' },
  displayName: { column: 'display_name', type: 'string' },
  state: { column: 'state', type: 'enum', values: JOB_STATES },
  createTime: { column: 'create_time', type: 'timestamp' },
  updateTime: { column: 'update_time', type: 'timestamp' },
  createdBy: { column: 'created_by', type: 'string' },
  evaluator: { column: 'evaluator_id', type: 'string' },
  inputDataset: { column: 'input_dataset_id', type: 'string' },
  outputDataset: { column: 'output_dataset_id', type: 'string' },
  score: { column: 'score', type: 'number' },
};

/** Fields of the results query (`:listResults`). */
export const RESULT_LIST_FIELDS: ListFields = {
  index: { column: 'idx', type: 'number' },
  score: { column: 'score', type: 'number' },
  isScoreValid: { column: 'is_valid', type: 'number' },
  errorKind: { column: 'error_kind', type: 'string' },
  ms: { column: 'ms', type: 'number' },
};

/** Candidates examined per lease attempt; a lost race moves on to the next one. */
const LEASE_CANDIDATES = 16;

/** A free chunk to take, on the terms of a lease request. */
export interface ChunkClaim {
  candidate: Candidate;
  owner: string;
  now: string;
  expireTime: string;
}

/**
 * The job runner's two hot writes, done elsewhere when the backend has a better place for them
 * (SQLite: a writer thread, sqlite/chunk-writer.ts); by default on `db` as below.
 */
export interface JobWrites {
  claimChunk(claim: ChunkClaim): Promise<boolean>;
  completeChunk: JobRepo['completeChunk'];
}

export function createJobRepo(db: Kysely<Database>, dialect: Dialect, writes?: JobWrites): JobRepo {
  const claim = writes?.claimChunk ?? ((c: ChunkClaim) => claimChunk(db, c.candidate, { ...c, limits: { job: 0, account: 0 } }));
  const readResults: JobRepo['readResults'] = async (rowSetId, afterIdx, limit) => {
    const rows = await db
      .selectFrom('job_results')
      .select(['idx', 'score', 'is_valid', 'error_kind', 'ms', 'metrics'])
      .where('row_set_id', '=', rowSetId)
      .where('idx', '>', afterIdx)
      .orderBy('idx')
      .limit(limit)
      .execute();
    return rows.map(toResult);
  };
  const get = async (accountId: string, id: string): Promise<JobRecord | undefined> => {
    const row = await db.selectFrom('evaluation_jobs').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    return row && jobRecordOf(row);
  };
  return {
    get,
    async create(job, { runnable, ranges, results }) {
      await db.transaction().execute(async (tx) => {
        await alreadyExistsOnConflict(`evaluation job "${job.id}" already exists`, () =>
          tx.insertInto('evaluation_jobs').values(toRow(job, runnable)).execute(),
        );
        if (results) await insertDoneChunks(tx, job, ranges, results);
        else await insertChunks(tx, job.accountId, job.id, ranges);
        for (const leaderboardId of job.leaderboardIds) {
          await tx.insertInto('leaderboard_jobs').values({ account_id: job.accountId, leaderboard_id: leaderboardId, job_id: job.id }).execute();
        }
      });
    },
    list: (accountId, request) => listAccountPage(db, { table: 'evaluation_jobs', accountId, fields: JOB_LIST_FIELDS, request }, jobRecordOf),
    async update(accountId, id, patch, options = {}) {
      let query = db.updateTable('evaluation_jobs').set(patchToRow(patch)).where('account_id', '=', accountId).where('id', '=', id);
      if (options.ifStates) query = query.where('state', 'in', options.ifStates);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) === 0 ? undefined : get(accountId, id);
    },
    async delete(accountId, id) {
      return db.transaction().execute(async (tx) => {
        const row = await tx.deleteFrom('evaluation_jobs').where('account_id', '=', accountId).where('id', '=', id).returning(['output_row_set_id']).executeTakeFirst();
        if (!row) return false;
        await tx.deleteFrom('job_chunks').where('account_id', '=', accountId).where('job_id', '=', id).execute();
        await tx.deleteFrom('job_results').where('row_set_id', '=', row.output_row_set_id).execute();
        await tx.deleteFrom('job_logs').where('account_id', '=', accountId).where('job_id', '=', id).execute();
        await tx.deleteFrom('leaderboard_jobs').where('account_id', '=', accountId).where('job_id', '=', id).execute();
        return true;
      });
    },
    async replaceChunks(accountId, jobId, ranges) {
      return db.transaction().execute(async (tx) => {
        const started = await tx
          .selectFrom('job_chunks')
          .select('idx')
          .where('account_id', '=', accountId)
          .where('job_id', '=', jobId)
          .where('state', '!=', 'pending')
          .executeTakeFirst();
        if (started) return false;
        await tx.deleteFrom('job_chunks').where('account_id', '=', accountId).where('job_id', '=', jobId).execute();
        await insertChunks(tx, accountId, jobId, ranges);
        return true;
      });
    },
    async markRunnable(accountId, evaluatorId) {
      const result = await db
        .updateTable('evaluation_jobs')
        .set({ runnable: 1 })
        .where('account_id', '=', accountId)
        .where('evaluator_id', '=', evaluatorId)
        .where('runnable', '=', 0)
        .where('state', 'in', RUNNABLE_JOB_STATES)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async listWaitingFor(accountId, evaluatorId) {
      return (await unfinishedJobsOf(db, accountId, evaluatorId).where('runnable', '=', 0).execute()).map(jobRecordOf);
    },
    async listUnfinished(accountId, evaluatorId) {
      return (await unfinishedJobsOf(db, accountId, evaluatorId).execute()).map(jobRecordOf);
    },
    leaseChunk: (request) => leaseChunk(db, dialect, request, claim),
    async addRolloutsDone(accountId, jobId, count) {
      await db.updateTable('evaluation_jobs').set((eb) => ({ rollouts_done: eb('rollouts_done', '+', count) })).where('account_id', '=', accountId).where('id', '=', jobId).execute();
    },

    async renewLease(lease, expireTime) {
      const result = await db
        .updateTable('job_chunks')
        .set({ lease_expire_time: expireTime })
        .where('account_id', '=', lease.accountId)
        .where('job_id', '=', lease.jobId)
        .where('idx', '=', lease.index)
        .where('state', '=', 'leased')
        .where('lease_owner', '=', lease.owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    shrinkLease: (lease, end) => db.transaction().execute((tx) => shrinkLease(tx, dialect, lease, end)),
    leaseOwners: (prefix) => leaseOwnersWithPrefix(db, prefix),
    releaseLeasesOf: (owner) => releaseLeasesOf(db, owner),
    async releaseChunk(lease) {
      await chunkWhereOwned(db, lease).set({ state: 'pending', lease_owner: '', lease_expire_time: '' }).execute();
    },
    completeChunk: writes?.completeChunk ?? ((lease, completion) => db.transaction().execute((tx) => completeChunk(tx, lease, completion))),
    async countChunks(accountId, jobId) {
      const rows = await db
        .selectFrom('job_chunks')
        .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('account_id', '=', accountId)
        .where('job_id', '=', jobId)
        .groupBy('state')
        .execute();
      const counts = { pending: 0, leased: 0, done: 0 };
      for (const row of rows) counts[row.state as keyof typeof counts] = Number(row.n);
      return counts;
    },
    async rowsInFlight(accountId, jobId) {
      const row = await db
        .selectFrom('job_chunks')
        .select((eb) => eb.fn.sum<number>(eb('end_idx', '-', eb.ref('start_idx'))).as('n'))
        .where('account_id', '=', accountId)
        .where('job_id', '=', jobId)
        .where('state', '=', 'leased')
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async listByStates(states) {
      const rows = await db.selectFrom('evaluation_jobs').selectAll().where('state', 'in', states).execute();
      return rows.map(jobRecordOf);
    },
    readResults,
    async readChunkResults(job, afterChunk, limit) {
      const chunks = await db
        .selectFrom('job_chunks')
        .select(['idx', 'start_idx', 'end_idx', 'results'])
        .where('account_id', '=', job.accountId)
        .where('job_id', '=', job.id)
        .where('state', '=', 'done')
        // By first row, not by chunk number: a chunk cut to fit its pace (shrinkLease) gave its
        // rest a number after all the others.
        .where('start_idx', '>', afterChunk)
        .orderBy('start_idx')
        .limit(limit)
        .execute();
      const out: { index: number; results: RowResult[] }[] = [];
      for (const chunk of chunks) {
        // Chunks written before their results were kept with them: read those rows instead.
        const results = chunk.results ? decodeChunkResults(chunk.results) : await readResults(job.outputRowSetId, Number(chunk.start_idx) - 1, Number(chunk.end_idx) - Number(chunk.start_idx));
        out.push({ index: Number(chunk.start_idx), results });
      }
      return out;
    },
    async listResults(rowSetId, request) {
      const page = await listPage<Database['job_results']>(db, { table: 'job_results', scope: { row_set_id: rowSetId }, idColumn: 'idx', fields: RESULT_LIST_FIELDS, request });
      const idxs = page.rows.map((r) => Number(r.idx));
      const byIdx = await readRowsAt(db, rowSetId, idxs);
      return { items: page.rows.map((r) => ({ ...toResult(r), data: byIdx.get(Number(r.idx)) ?? '{}' })), nextPageToken: page.nextPageToken, totalSize: page.totalSize };
    },
    async appendLog(accountId, jobId, lines) {
      if (lines.length === 0) return;
      await db.insertInto('job_logs').values(lines.map((l) => ({ account_id: accountId, job_id: jobId, time: l.time, text: l.text }))).execute();
    },
    async readLog(accountId, jobId, afterId, limit) {
      const rows = await db.selectFrom('job_logs').selectAll().where('account_id', '=', accountId).where('job_id', '=', jobId).where('id', '>', afterId).orderBy('id').limit(limit).execute();
      return rows.map((r) => ({ id: Number(r.id), time: r.time, text: r.text }));
    },
  };
}

export interface Candidate {
  account_id: string;
  job_id: string;
  idx: number;
  attempts: number;
}

interface LeaseTerms {
  owner: string;
  now: string;
  expireTime: string;
  limits: { job: number; account: number };
}

async function claimWithinLimits(tx: Kysely<Database>, candidate: Candidate, terms: LeaseTerms): Promise<boolean> {
  if (!(await withinLimits(tx, candidate.account_id, candidate.job_id, terms.limits.job, terms.limits.account, terms.now))) return false;
  return claimChunk(tx, candidate, terms);
}

/** Compare-and-set: the chunk is ours only if it is still free when the update runs. */
async function claimChunk(db: Kysely<Database>, candidate: Candidate, { owner, now, expireTime }: LeaseTerms): Promise<boolean> {
  const result = await db
    .updateTable('job_chunks')
    .set({ state: 'leased', lease_owner: owner, lease_expire_time: expireTime, attempts: candidate.attempts + 1 })
    .where('account_id', '=', candidate.account_id)
    .where('job_id', '=', candidate.job_id)
    .where('idx', '=', candidate.idx)
    .where((eb) => eb.or([eb('state', '=', 'pending'), eb.and([eb('state', '=', 'leased'), eb('lease_expire_time', '<', now)])]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

async function leaseChunk(
  db: Kysely<Database>,
  dialect: Dialect,
  { owner, now, expireTime, accountLimit }: LeaseRequest,
  claim: (c: ChunkClaim) => Promise<boolean>,
): Promise<ChunkLease | undefined> {
  const candidates = await db
    .selectFrom('job_chunks as c')
    .innerJoin('evaluation_jobs as j', (join) => join.onRef('j.account_id', '=', 'c.account_id').onRef('j.id', '=', 'c.job_id'))
    .select(['c.account_id', 'c.job_id', 'c.idx', 'c.start_idx', 'c.end_idx', 'c.attempts', 'j.settings'])
    .where('j.runnable', '=', 1)
    .where('j.state', 'in', RUNNABLE_JOB_STATES)
    .where((eb) => eb.or([eb('c.state', '=', 'pending'), eb.and([eb('c.state', '=', 'leased'), eb('c.lease_expire_time', '<', now)])]))
    .orderBy('j.create_time')
    .orderBy('c.idx')
    .limit(LEASE_CANDIDATES)
    .execute();
  for (const candidate of candidates) {
    const settings = JSON.parse(candidate.settings) as JobSettings;
    const limited = settings.concurrency > 0 || accountLimit > 0;
    const terms = { owner, now, expireTime, limits: { job: settings.concurrency, account: accountLimit } };
    // With a limit, counting the live leases and taking one must be one step, or two workers
    // that both counted one lease below the limit would both take one.
    const won = limited
      ? await db.transaction().execute(async (tx) => {
          if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${candidate.account_id}))`.execute(tx);
          return claimWithinLimits(tx, candidate, terms);
        })
      : await claim({ candidate: { account_id: candidate.account_id, job_id: candidate.job_id, idx: candidate.idx, attempts: candidate.attempts }, owner, now, expireTime });
    if (won) {
      return { accountId: candidate.account_id, jobId: candidate.job_id, index: candidate.idx, start: candidate.start_idx, end: candidate.end_idx, owner, attempts: candidate.attempts + 1 };
    }
  }
  return undefined;
}

/** A job's own concurrency and its account's limit count the live leases of each. */
async function withinLimits(db: Kysely<Database>, accountId: string, jobId: string, jobLimit: number, accountLimit: number, now: string): Promise<boolean> {
  if (jobLimit <= 0 && accountLimit <= 0) return true;
  const live = (job?: string) => {
    let q = db.selectFrom('job_chunks').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).where('state', '=', 'leased').where('lease_expire_time', '>=', now);
    if (job) q = q.where('job_id', '=', job);
    return q.executeTakeFirstOrThrow().then((r) => Number(r.n));
  };
  if (jobLimit > 0 && (await live(jobId)) >= jobLimit) return false;
  return accountLimit <= 0 || (await live()) < accountLimit;
}

/** The jobs of an evaluator that have not finished (waiting for its build, pending or running). */
function unfinishedJobsOf(db: Kysely<Database>, accountId: string, evaluatorId: string) {
  return db.selectFrom('evaluation_jobs').selectAll().where('account_id', '=', accountId).where('evaluator_id', '=', evaluatorId).where('state', 'in', RUNNABLE_JOB_STATES);
}

async function shrinkLease(tx: Transaction<Database>, dialect: Dialect, lease: ChunkLease, end: number): Promise<ChunkLease | undefined> {
  if (!(end > lease.start && end < lease.end)) return end === lease.end ? lease : undefined;
  // The new chunk's number is the job's highest plus one: on PostgreSQL (read committed) two slots
  // cutting their first chunks at once would both read the same highest and collide on the key, so
  // cuts of one job take turns. SQLite's write transactions already do.
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${lease.accountId}), hashtext(${lease.jobId}))`.execute(tx);
  const kept = await chunkWhereOwned(tx, lease).where('end_idx', '=', lease.end).set({ end_idx: end }).executeTakeFirst();
  if (Number(kept.numUpdatedRows) !== 1) return undefined;
  const last = await tx
    .selectFrom('job_chunks')
    .select((eb) => eb.fn.max('idx').as('idx'))
    .where('account_id', '=', lease.accountId)
    .where('job_id', '=', lease.jobId)
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('job_chunks')
    .values({ account_id: lease.accountId, job_id: lease.jobId, idx: Number(last.idx) + 1, start_idx: end, end_idx: lease.end, state: 'pending', lease_owner: '', lease_expire_time: '', attempts: 0 })
    .execute();
  return { ...lease, end };
}

function chunkWhereOwned(db: Kysely<Database> | Transaction<Database>, lease: ChunkLease) {
  return db
    .updateTable('job_chunks')
    .where('account_id', '=', lease.accountId)
    .where('job_id', '=', lease.jobId)
    .where('idx', '=', lease.index)
    .where('state', '=', 'leased')
    .where('lease_owner', '=', lease.owner);
}

const RESULT_COLUMNS: readonly BulkColumn[] = [
  ['row_set_id', 'int8'], ['idx', 'int4'], ['score', 'float8'], ['is_valid', 'int4'], ['error_kind', 'text'], ['ms', 'float8'], ['metrics', 'text'],
];
const resultRows = (set: number, results: readonly RowResult[]) => results.map((r) => [set, r.idx, r.score, r.isScoreValid ? 1 : 0, r.errorKind, r.ms, JSON.stringify(r.metrics)]);

/**
 * The exactly-once point: the chunk flips to done only if this worker still owns its lease, and
 * its output rows, results and the job's counters are written in the same transaction. A worker
 * whose lease was taken over writes nothing.
 */
async function completeChunk(tx: Transaction<Database>, lease: ChunkLease, c: ChunkCompletion) {
  const claimed = await chunkWhereOwned(tx, lease).set({ state: 'done', lease_owner: lease.owner, results: encodeChunkResults(c.results) }).executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) return undefined;
  const set = c.outputRowSetId;
  // Derived: the output row set reads the input rows from its base, the job's input row set.
  await writeRows(tx, set, c.rows, { derived: true });
  await insertMany(tx, 'job_results', RESULT_COLUMNS, resultRows(set, c.results));
  const errored = c.results.filter((r) => r.errorKind !== '').length;
  // The new counters come back with the update: the worker checks the error rate without a read.
  const counters = await tx
    .updateTable('evaluation_jobs')
    .set((eb) => ({ rows_done: eb('rows_done', '+', c.results.length), rows_errored: eb('rows_errored', '+', errored), update_time: c.now }))
    .where('account_id', '=', lease.accountId)
    .where('id', '=', lease.jobId)
    .returning(['rows_done', 'rows_errored'])
    .executeTakeFirst();
  if (c.scoreCache) await writeScoreCache(tx, lease, c.scoreCache, c.now);
  const remaining = await tx
    .selectFrom('job_chunks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', lease.accountId)
    .where('job_id', '=', lease.jobId)
    .where('state', '!=', 'done')
    .executeTakeFirstOrThrow();
  return { remainingChunks: Number(remaining.n), progress: counters && { rowsDone: Number(counters.rows_done), rowsErrored: Number(counters.rows_errored) } };
}

const CHUNK_COLUMNS: readonly BulkColumn[] = [
  ['account_id', 'text'], ['job_id', 'text'], ['idx', 'int4'], ['start_idx', 'int4'], ['end_idx', 'int4'],
  ['state', 'text'], ['lease_owner', 'text'], ['lease_expire_time', 'text'], ['attempts', 'int4'],
];

/** Prepared bulk inserts: a job of 10-row chunks over 100,000 rows has 10,000 chunks to record. */
async function insertChunks(tx: Transaction<Database>, accountId: string, jobId: string, ranges: readonly Range[]): Promise<void> {
  await insertMany(tx, 'job_chunks', CHUNK_COLUMNS, ranges.map(([start, end], idx) => [accountId, jobId, idx, start, end, 'pending', '', '', 0]));
}

/** A recorded job's chunks, done, each with its rows' results (as completeChunk leaves them), and the results index. */
async function insertDoneChunks(tx: Transaction<Database>, job: JobRecord, ranges: readonly Range[], results: readonly RowResult[]): Promise<void> {
  await insertChunks(tx, job.accountId, job.id, ranges);
  for (const [idx, [start, end]] of ranges.entries()) {
    await tx.updateTable('job_chunks').set({ state: 'done', results: encodeChunkResults(results.slice(start, end)) })
      .where('account_id', '=', job.accountId).where('job_id', '=', job.id).where('idx', '=', idx).execute();
  }
  const set = job.outputRowSetId;
  await insertMany(tx, 'job_results', RESULT_COLUMNS, resultRows(set, results));
}

function patchToRow(patch: JobPatch): Updateable<EvaluationJobsTable> {
  const row: Updateable<EvaluationJobsTable> = { update_time: patch.updateTime };
  if (patch.state !== undefined) row.state = patch.state;
  if (patch.status !== undefined) {
    row.status_code = patch.status.code;
    row.status_message = patch.status.message;
  }
  if (patch.runnable !== undefined) row.runnable = patch.runnable ? 1 : 0;
  if (patch.startTime !== undefined) row.start_time = patch.startTime;
  if (patch.endTime !== undefined) row.end_time = patch.endTime;
  if (patch.metrics !== undefined) {
    row.metrics = JSON.stringify(patch.metrics);
    row.score = patch.metrics['score'] ?? 0;
  }
  if (patch.outputStats !== undefined) row.output_stats = patch.outputStats;
  if (patch.evaluatorRevision !== undefined) row.evaluator_revision = patch.evaluatorRevision;
  return row;
}

function toRow(job: JobRecord, runnable: boolean): EvaluationJobsTable {
  return {
    account_id: job.accountId, id: job.id, display_name: job.displayName, created_by: job.createdBy,
    create_time: job.createTime, update_time: job.updateTime, state: job.state,
    status_code: job.status.code, status_message: job.status.message,
    evaluator_id: job.evaluatorId, input_dataset_id: job.inputDatasetId, output_dataset_id: job.outputDatasetId,
    input_row_set_id: job.inputRowSetId, output_row_set_id: job.outputRowSetId, runnable: runnable ? 1 : 0,
    settings: JSON.stringify(job.settings), rows_total: job.progress.rowsTotal, rows_done: job.progress.rowsDone, rollouts_done: job.progress.rolloutsDone ?? 0,
    rows_errored: job.progress.rowsErrored, rows_cached: job.progress.rowsCached ?? 0, start_time: job.progress.startTime, end_time: job.progress.endTime,
    score: job.metrics['score'] ?? 0, metrics: JSON.stringify(job.metrics), output_stats: job.outputStats,
    leaderboard_ids: JSON.stringify(job.leaderboardIds),
    aws_s3_config: job.awsS3Config ? JSON.stringify(job.awsS3Config) : '',
    evaluator_revision: job.evaluatorRevision ?? '',
  };
}

export function jobRecordOf(row: EvaluationJobsTable): JobRecord {
  return {
    accountId: row.account_id, id: row.id, displayName: row.display_name, createdBy: row.created_by,
    createTime: row.create_time, updateTime: row.update_time, state: row.state as JobState,
    status: { code: row.status_code, message: row.status_message } as ResourceStatus,
    evaluatorId: row.evaluator_id, inputDatasetId: row.input_dataset_id, outputDatasetId: row.output_dataset_id,
    inputRowSetId: Number(row.input_row_set_id), outputRowSetId: Number(row.output_row_set_id),
    settings: JSON.parse(row.settings) as JobSettings,
    progress: { rowsTotal: Number(row.rows_total), rowsDone: Number(row.rows_done), rowsErrored: Number(row.rows_errored), rolloutsDone: Number(row.rollouts_done ?? 0), rowsCached: Number(row.rows_cached ?? 0), startTime: row.start_time, endTime: row.end_time },
    metrics: JSON.parse(row.metrics) as Record<string, number>,
    outputStats: row.output_stats,
    leaderboardIds: JSON.parse(row.leaderboard_ids) as string[],
    ...(row.aws_s3_config ? { awsS3Config: JSON.parse(row.aws_s3_config) as AwsS3Config } : {}),
    ...(row.evaluator_revision ? { evaluatorRevision: row.evaluator_revision } : {}),
  };
}

function toResult(row: Omit<Database['job_results'], 'row_set_id'>): RowResult {
  // Most evaluators report no metrics: skip a parse per row for them.
  const metrics = row.metrics === '{}' ? {} : (JSON.parse(row.metrics) as Record<string, number>);
  return { idx: Number(row.idx), score: Number(row.score), isScoreValid: row.is_valid === 1, errorKind: row.error_kind, ms: Number(row.ms), metrics };
}
