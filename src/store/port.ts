import type { DeclaredRollout, EvaluatorRecord, EvaluatorRevision } from '../domain/evaluators.js';
import type { Range } from '../domain/chunking.js';
import type { ChunkLease, JobRecord, JobState, RowResult } from '../domain/jobs.js';
import type { SecretRecord } from '../domain/secrets.js';
import type { CursorPage, CursorRequest, OpenAiEvalRecord, OpenAiRunRecord } from '../domain/openai-evals.js';
import type { OutputRow } from '../domain/output-rows.js';
import type {
  Account,
  ApiKeyRecord,
  DatasetRecord,
  DatasetStats,
  ResourceStatus,
  SignedUrlRecord,
} from '../domain/types.js';

/**
 * The Store port: everything the services persist goes through it. Each backend (sqlite/,
 * postgres/) owns its connections; no connection or transaction type crosses this boundary, so a
 * use case that needs atomicity gets one method that is atomic.
 */
export type Dialect = 'sqlite' | 'postgres';

export interface ListRequest {
  filter?: string;
  orderBy?: string;
  pageSize?: number;
  pageToken?: string;
}

export interface ListPage<T> {
  items: T[];
  nextPageToken: string;
  totalSize: number;
}

export interface AccountRepo {
  /** `email` may be left out ('' then), so callers that predate it need not name it. */
  create(account: Omit<Account, 'email'> & { email?: string }): Promise<void>;
  get(id: string): Promise<Account | undefined>;
  list(): Promise<Account[]>;
}

export interface ApiKeyRepo {
  create(key: ApiKeyRecord): Promise<void>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  list(accountId: string, request: ListRequest): Promise<ListPage<ApiKeyRecord>>;
  get(accountId: string, id: string): Promise<ApiKeyRecord | undefined>;
  /** Returns false when there was no such key. */
  delete(accountId: string, id: string): Promise<boolean>;
}

export interface DatasetPatch {
  displayName?: string;
  format?: DatasetRecord['format'];
  exampleCount?: number;
  origin?: DatasetRecord['origin'];
  state?: DatasetRecord['state'];
  status?: ResourceStatus;
  updateTime: string;
}

export interface DatasetRepo {
  /** Throws ALREADY_EXISTS when the id is taken. */
  create(record: DatasetRecord): Promise<void>;
  get(accountId: string, id: string): Promise<DatasetRecord | undefined>;
  list(accountId: string, request: ListRequest): Promise<ListPage<DatasetRecord>>;
  update(accountId: string, id: string, patch: DatasetPatch): Promise<DatasetRecord | undefined>;
  /** Deletes the dataset and its rows. Returns false when there was no such dataset. */
  delete(accountId: string, id: string): Promise<boolean>;
  /**
   * Atomically makes `rowSetId` the dataset's rows, with its stats, state READY and status OK,
   * and drops the row set it replaces. Returns undefined when the dataset no longer exists (the
   * caller then drops the new row set).
   */
  commitRows(
    accountId: string,
    id: string,
    commit: { rowSetId: number; stats: DatasetStats; updateTime: string },
  ): Promise<DatasetRecord | undefined>;
  /** Records the files of an upload, in order, replacing those of any earlier `:getUploadEndpoint`. */
  setUploadFiles(accountId: string, id: string, filenames: readonly string[]): Promise<void>;
  /** The files last registered for upload, in order; [] when none. */
  getUploadFiles(accountId: string, id: string): Promise<string[]>;
}

export interface RowRepo {
  /**
   * A new, empty row set owned by `accountId`. With `base`, a job's output: its rows are the
   * base's rows (same indexes) with what the job added, and the base stays while it exists.
   */
  createSet(accountId: string, options?: { base?: number }): Promise<number>;
  /** Appends rows (JSON text) at indexes start, start+1, ... in one transaction. */
  append(rowSetId: number, start: number, rows: readonly string[]): Promise<void>;
  /** Up to `limit` rows with index > afterIdx, in index order. */
  read(rowSetId: number, afterIdx: number, limit: number): Promise<{ idx: number; data: string }[]>;
  /** The rows with these indexes (those that exist), keyed by index. */
  readAt(rowSetId: number, idxs: readonly number[]): Promise<Map<number, string>>;
  deleteSet(rowSetId: number): Promise<void>;
  /**
   * Drops the row set unless a dataset, an unfinished job or a row set derived from it still
   * uses it; true if dropped. deleteSet drops it unless a row set derives from it.
   */
  deleteSetIfUnused(rowSetId: number): Promise<boolean>;
  /**
   * Drops row sets that nothing uses (no dataset, job, staged upload or derived row set) created
   * before `createdBefore`: what an upload killed midway left. Returns how many were dropped.
   */
  sweepOrphans(createdBefore: string): Promise<number>;
}

export interface SignedUrlRepo {
  create(record: SignedUrlRecord): Promise<void>;
  get(tokenHash: string): Promise<SignedUrlRecord | undefined>;
  /** Marks an upload URL used; false when it already was (so each URL works once). */
  claim(tokenHash: string, usedTime: string): Promise<boolean>;
  /** Undoes a claim when the PUT failed, so the client may retry with the same URL. */
  release(tokenHash: string): Promise<void>;
  stage(tokenHash: string, staged: { rowSetId: number; stats: DatasetStats } | { blobId: string }): Promise<void>;
  /** Upload URLs of one target that hold a staged upload (row set or blob), oldest first. */
  listStaged(accountId: string, targetKind: string, targetId: string): Promise<SignedUrlRecord[]>;
  deleteForTarget(accountId: string, targetKind: string, targetId: string): Promise<void>;
  /** Drops expired URLs with their staged uploads that nothing else uses; returns how many URLs. */
  deleteExpired(now: string): Promise<number>;
}

export type EvaluatorPatch = Partial<
  Pick<
    EvaluatorRecord,
    | 'displayName'
    | 'description'
    | 'state'
    | 'status'
    | 'spec'
    | 'sourceBlobId'
    | 'sourceFilename'
    | 'buildGeneration'
    | 'buildRequestTime'
    | 'buildLogBlobId'
    | 'buildDir'
    | 'envHash'
    | 'mode'
    | 'currentRevisionId'
  >
> & { updateTime: string; declaredRollout?: DeclaredRollout | null };

export interface EvaluatorRevisionRepo {
  create(revision: EvaluatorRevision): Promise<void>;
  get(accountId: string, evaluatorId: string, id: string): Promise<EvaluatorRevision | undefined>;
  /** The revision with the highest seq. */
  latest(accountId: string, evaluatorId: string): Promise<EvaluatorRevision | undefined>;
  /** The revision carrying a user alias. */
  findByAlias(accountId: string, evaluatorId: string, alias: string): Promise<EvaluatorRevision | undefined>;
  /** Default order: newest first. Fields: revisionId, createTime, state. */
  list(accountId: string, evaluatorId: string, request: ListRequest): Promise<ListPage<EvaluatorRevision>>;
  setAliases(accountId: string, evaluatorId: string, id: string, aliases: readonly string[]): Promise<void>;
  delete(accountId: string, evaluatorId: string, id: string): Promise<boolean>;
  /** Drops every revision of an evaluator; answers the source blobs they held. */
  deleteForEvaluator(accountId: string, evaluatorId: string): Promise<string[]>;
}

export interface EvaluatorRepo {
  /** Throws ALREADY_EXISTS when the id is taken. */
  create(record: EvaluatorRecord): Promise<void>;
  get(accountId: string, id: string): Promise<EvaluatorRecord | undefined>;
  list(accountId: string, request: ListRequest): Promise<ListPage<EvaluatorRecord>>;
  /**
   * Applies the patch; with `ifGeneration`, only while the build generation is still that one
   * (a stale build must not overwrite a newer request). Undefined when nothing was updated.
   */
  update(accountId: string, id: string, patch: EvaluatorPatch, options?: { ifGeneration?: number }): Promise<EvaluatorRecord | undefined>;
  /** Deletes the evaluator; answers the blobs it owned (for the caller to drop), or undefined. */
  delete(accountId: string, id: string): Promise<{ blobIds: string[] } | undefined>;
  /** Evaluators whose build was requested and has not finished, oldest request first. */
  listPendingBuilds(): Promise<EvaluatorRecord[]>;
}

/** Opaque byte objects (source archives, build logs), streamed in and out. */
export interface BlobRepo {
  /** Stores the bytes of `source` under `id`; answers the size. Nothing is kept if it fails. */
  write(accountId: string, id: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number>;
  size(id: string): Promise<number | undefined>;
  read(id: string): AsyncGenerator<Uint8Array>;
  delete(id: string): Promise<void>;
}

export type JobPatch = Partial<Pick<JobRecord, 'state' | 'status' | 'metrics' | 'outputStats' | 'evaluatorRevision'>> & {
  runnable?: boolean;
  startTime?: string;
  endTime?: string;
  updateTime: string;
};

export interface LeaseRequest {
  owner: string;
  now: string;
  expireTime: string;
  /** Live leases allowed per account; 0 = no limit. */
  accountLimit: number;
}

export interface ChunkCompletion {
  outputRowSetId: number;
  rows: OutputRow[];
  results: RowResult[];
  now: string;
  /**
   * The chunk's part of the score cache, written in the same transaction: new entries, the keys
   * it hit (marked used), how many rows those answered (added to the job's `rowsCached`), and
   * when set, the bound to evict the account's least recently used entries beyond.
   */
  scoreCache?: { entries: { key: string; result: string }[]; hitKeys: string[]; hits: number; evictBeyond?: number | undefined } | undefined;
}

export interface JobRepo {
  /**
   * Records the job, its chunks (row ranges) and its leaderboard links in one transaction. With
   * `results` (a recorded job: rows scored elsewhere, one result a row in index order) the chunks
   * are done with their results, which the results query and :compare read as any job's.
   */
  create(job: JobRecord, options: { runnable: boolean; ranges: readonly Range[]; results?: readonly RowResult[] }): Promise<void>;
  /** Re-cuts the chunks of a job none of whose chunks has started; false if one has. */
  replaceChunks(accountId: string, jobId: string, ranges: readonly Range[]): Promise<boolean>;
  get(accountId: string, id: string): Promise<JobRecord | undefined>;
  list(accountId: string, request: ListRequest): Promise<ListPage<JobRecord>>;
  /** With `ifStates`, applies only while the job is in one of them (a state transition). */
  update(accountId: string, id: string, patch: JobPatch, options?: { ifStates?: readonly JobState[] }): Promise<JobRecord | undefined>;
  delete(accountId: string, id: string): Promise<boolean>;
  /** Lets workers lease the chunks of jobs waiting for this evaluator's build. */
  markRunnable(accountId: string, evaluatorId: string): Promise<number>;
  listWaitingFor(accountId: string, evaluatorId: string): Promise<JobRecord[]>;
  /** The evaluator's jobs that have not finished, waiting for its build or not. */
  listUnfinished(accountId: string, evaluatorId: string): Promise<JobRecord[]>;
  /** A free (or expired) chunk of a runnable job, leased to `owner`; undefined when none. */
  leaseChunk(request: LeaseRequest): Promise<ChunkLease | undefined>;
  renewLease(lease: ChunkLease, expireTime: string): Promise<boolean>;
  /** Counts finished rollouts into the job's progress (written about once a second per worker). */
  addRolloutsDone(accountId: string, jobId: string, count: number): Promise<void>;
  releaseChunk(lease: ChunkLease): Promise<void>;
  /** Owners of live leases whose name starts with `prefix` (a host's workers). */
  leaseOwners(prefix: string): Promise<string[]>;
  /** Gives back every chunk `owner` leases (a dead worker's); returns how many. */
  releaseLeasesOf(owner: string): Promise<number>;
  /**
   * Atomically: a leased chunk keeps its rows [start, end) and the rest of its rows becomes a new
   * pending chunk (ordered after the job's others), so a slow job is cut finer as it runs. The
   * shrunk lease; undefined when the lease was lost (nothing changes then).
   */
  shrinkLease(lease: ChunkLease, end: number): Promise<ChunkLease | undefined>;
  /**
   * Atomically: the chunk becomes done (only if `lease` still holds it), its output rows and
   * results are written and the job's counters advance. Undefined when the lease was lost.
   */
  /** undefined when the lease was lost; `progress` is the job's counters after this chunk (none if the job is gone). */
  completeChunk(lease: ChunkLease, completion: ChunkCompletion): Promise<{ remainingChunks: number; progress?: { rowsDone: number; rowsErrored: number } } | undefined>;
  countChunks(accountId: string, jobId: string): Promise<{ pending: number; leased: number; done: number }>;
  /** Rows of the job's leased chunks: what its workers are scoring now. */
  rowsInFlight(accountId: string, jobId: string): Promise<number>;
  listByStates(states: readonly JobState[]): Promise<JobRecord[]>;
  readResults(rowSetId: number, afterIdx: number, limit: number): Promise<RowResult[]>;
  /**
   * The results of a job's done chunks, chunk by chunk in row order; `index` is where a chunk
   * starts (its first row), and the next page is the chunks after the `index` given as `afterChunk`.
   */
  readChunkResults(job: { accountId: string; id: string; outputRowSetId: number }, afterChunk: number, limit: number): Promise<{ index: number; results: RowResult[] }[]>;
  listResults(rowSetId: number, request: ListRequest): Promise<ListPage<RowResult & { data: string }>>;
  appendLog(accountId: string, jobId: string, lines: { time: string; text: string }[]): Promise<void>;
  readLog(accountId: string, jobId: string, afterId: number, limit: number): Promise<{ id: number; time: string; text: string }[]>;
}

export interface LeaderboardRecord {
  accountId: string;
  id: string;
  displayName: string;
  description: string;
  createTime: string;
  updateTime: string;
  source: Record<string, unknown>;
}

export interface LeaderboardRepo {
  create(record: LeaderboardRecord): Promise<void>;
  get(accountId: string, id: string): Promise<(LeaderboardRecord & { jobCount: number }) | undefined>;
  list(accountId: string, request: ListRequest): Promise<ListPage<LeaderboardRecord & { jobCount: number }>>;
  delete(accountId: string, id: string): Promise<boolean>;
  /** The attached jobs, best `metrics.score` first (jobs without a score last). */
  listJobs(accountId: string, id: string, request: ListRequest): Promise<ListPage<JobRecord>>;
}

export type SecretPatch = Partial<Pick<SecretRecord, 'keyName' | 'ciphertext' | 'nonce' | 'tag'>> & { updateTime: string };

export interface SecretRepo {
  /** Throws ALREADY_EXISTS when the id, or the key name within the account, is taken. */
  create(record: SecretRecord): Promise<void>;
  get(accountId: string, id: string): Promise<SecretRecord | undefined>;
  list(accountId: string, request: ListRequest): Promise<ListPage<SecretRecord>>;
  /** Every secret of the account (what its evaluators' sandboxes get). */
  listAll(accountId: string): Promise<SecretRecord[]>;
  /** Throws ALREADY_EXISTS when the new key name is taken; undefined when there is no such secret. */
  update(accountId: string, id: string, patch: SecretPatch): Promise<SecretRecord | undefined>;
  delete(accountId: string, id: string): Promise<boolean>;
}

/**
 * The score cache: evaluations by account and key (runner/score-cache.ts makes the keys). An
 * account's entries answer only that account's lookups.
 */
export interface ScoreCacheRepo {
  /** The stored results of those keys that are cached, and when each was last used, by key. Writes come with a chunk (ChunkCompletion.scoreCache). */
  lookup(accountId: string, keys: readonly string[]): Promise<Map<string, { result: string; usedTime: string }>>;
  count(accountId: string): Promise<number>;
}

/** The OpenAI Evals face's metadata (migration 0017); the work itself is Tally's jobs. */
export interface OpenAiEvalRepo {
  createEval(record: OpenAiEvalRecord): Promise<void>;
  getEval(accountId: string, id: string): Promise<OpenAiEvalRecord | undefined>;
  listEvals(accountId: string, request: CursorRequest & { orderColumn?: 'created_at' | 'updated_at' }): Promise<CursorPage<OpenAiEvalRecord>>;
  updateEval(record: OpenAiEvalRecord): Promise<void>;
  /** Deletes the eval and its runs; the jobs of those runs, for the caller to delete; undefined when there was none. */
  deleteEval(accountId: string, id: string): Promise<{ jobIds: string[] } | undefined>;
  createRun(record: OpenAiRunRecord): Promise<void>;
  getRun(accountId: string, evalId: string, id: string): Promise<OpenAiRunRecord | undefined>;
  /** `jobStates`: only runs whose job is in one of these states. */
  listRuns(accountId: string, evalId: string, request: CursorRequest & { jobStates?: readonly JobState[] }): Promise<CursorPage<OpenAiRunRecord>>;
  updateRun(record: OpenAiRunRecord): Promise<void>;
  deleteRun(accountId: string, evalId: string, id: string): Promise<boolean>;
}

export interface Store {
  readonly dialect: Dialect;
  readonly accounts: AccountRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly datasets: DatasetRepo;
  readonly rows: RowRepo;
  readonly signedUrls: SignedUrlRepo;
  readonly evaluators: EvaluatorRepo;
  readonly evaluatorRevisions: EvaluatorRevisionRepo;
  readonly blobs: BlobRepo;
  readonly jobs: JobRepo;
  readonly leaderboards: LeaderboardRepo;
  readonly secrets: SecretRepo;
  readonly scoreCache: ScoreCacheRepo;
  readonly openaiEvals: OpenAiEvalRepo;
  /**
   * Gives the space of deleted data back to the file system where the backend needs telling
   * (SQLite); `full` allows a full compaction (only when nothing else uses the database yet).
   * PostgreSQL's autovacuum does this by itself: there it reports nothing.
   */
  reclaimSpace(options: { full: boolean }): Promise<SpaceReport | undefined>;
  close(): Promise<void>;
}

export interface SpaceReport {
  fileBytesBefore: number;
  fileBytesAfter: number;
  freeBytesAfter: number;
}
