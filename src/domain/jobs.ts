/**
 * Evaluation jobs: one evaluator over one input dataset, writing one output dataset.
 *
 * - chunk: a contiguous slice of the input rows [start, end); the unit of leasing, checkpointing
 *   and retry. A chunk's output rows and its completion are written in one transaction, once.
 * - lease: a worker's claim on a chunk until `leaseExpireTime`; renewed while it works. A lease
 *   that expires (the worker died) makes the chunk available to any worker again.
 * - progress: rows done and errored so far, kept on the job as chunks complete.
 */
import type { RolloutSettings, RolloutStat } from './rollout.js';
import type { ResourceStatus } from './types.js';

export const JOB_STATES = [
  'JOB_STATE_UNSPECIFIED',
  'JOB_STATE_CREATING',
  'JOB_STATE_RUNNING',
  'JOB_STATE_COMPLETED',
  'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLED',
  'JOB_STATE_DELETING',
  'JOB_STATE_WRITING_RESULTS',
  'JOB_STATE_VALIDATING',
  'JOB_STATE_DELETING_CLEANING_UP',
  'JOB_STATE_PENDING',
  'JOB_STATE_EXPIRED',
  'JOB_STATE_RE_QUEUEING',
  'JOB_STATE_CREATING_INPUT_DATASET',
  'JOB_STATE_IDLE',
  'JOB_STATE_CANCELLING',
  'JOB_STATE_EARLY_STOPPED',
  'JOB_STATE_PAUSED',
  'JOB_STATE_DELETED',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set(['JOB_STATE_COMPLETED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED']);
/** States in which workers may lease the job's chunks. */
export const RUNNABLE_JOB_STATES: readonly JobState[] = ['JOB_STATE_PENDING', 'JOB_STATE_RUNNING'];

export interface JobSettings {
  /** Wall-clock limit for one row. @default 60000 */
  perRowTimeoutMs: number;
  /** The job fails when errored rows / all rows passes this share. @default 0.5 */
  maxErrorRate: number;
  /** Chunks of this job scored at once, across workers. 0 = as many as the workers have. */
  concurrency: number;
  /** Rows per chunk. */
  chunkRows: number;
  /** Whether the evaluator's sandbox may reach the network: its `allowEgress` when the job was created. */
  egress: boolean;
  /** Reuse scores of the same build, settings and row text (runner/score-cache.ts). @default true */
  cache?: boolean;
  /**
   * Chunks were planned by Tally (no `chunkRows` given): workers may score a leased chunk's first
   * rows only and give the rest back as a chunk of its own (domain/chunking.ts rowsToScoreNow).
   */
  adaptiveChunks?: boolean;
  /** Overrides the evaluator's maxConcurrentEvaluations for this job (domain/row-concurrency.ts). */
  maxConcurrentEvaluations?: number;
  /** Overrides the evaluator's evaluationThreads for this job. */
  evaluationThreads?: number;
  /** A model call before scoring (domain/rollout.ts); absent: the rows are scored as they are. */
  rollout?: RolloutSettings;
}

export const DEFAULT_JOB_SETTINGS: JobSettings = { perRowTimeoutMs: 60_000, maxErrorRate: 0.5, concurrency: 0, chunkRows: 1000, egress: false };

export interface JobProgress {
  rowsTotal: number;
  rowsDone: number;
  rowsErrored: number;
  /** Rows answered from the score cache instead of the evaluator (absent on records made before it). */
  rowsCached?: number;
  /** Rollouts finished so far, in a job with a rollout step (rows are done once scored and written). */
  rolloutsDone?: number;
  /** When the first chunk was leased; '' before. */
  startTime: string;
  endTime: string;
}

export interface JobRecord {
  accountId: string;
  id: string;
  displayName: string;
  createdBy: string;
  createTime: string;
  updateTime: string;
  state: JobState;
  status: ResourceStatus;
  evaluatorId: string;
  inputDatasetId: string;
  outputDatasetId: string;
  /** The input rows as they were when the job was created. */
  inputRowSetId: number;
  outputRowSetId: number;
  settings: JobSettings;
  progress: JobProgress;
  metrics: Record<string, number>;
  /** A JSON string (the wire field is a string); '' until the job has results. */
  outputStats: string;
  leaderboardIds: string[];
  /** Echoed back as sent: Tally reads and writes datasets in its own store, never S3. */
  awsS3Config?: AwsS3Config;
  /**
   * The evaluator revision the job runs (given on create, or the evaluator's current one); '' or
   * absent while the evaluator has none yet (its first build).
   */
  evaluatorRevision?: string;
}

export interface AwsS3Config {
  credentialsSecret?: string;
  iamRoleArn?: string;
}

export type ChunkState = 'pending' | 'leased' | 'done';

export interface ChunkLease {
  accountId: string;
  jobId: string;
  index: number;
  start: number;
  end: number;
  owner: string;
  attempts: number;
}

/** One scored row, as kept for queries (the full row lives in the output dataset). */
export interface RowResult {
  idx: number;
  score: number;
  isScoreValid: boolean;
  /** '' for a scored row; else the error kind (exception, timeout, crash, ...). */
  errorKind: string;
  ms: number;
  metrics: Record<string, number>;
  /** What the row's rollout did, in a job with a rollout step. */
  rollout?: RolloutStat;
}

/** How many output rows a job makes of each input row (its rollout's numRuns; 1 without one). */
export const runsOf = (job: Pick<JobRecord, 'settings'>): number => job.settings.rollout?.numRuns ?? 1;

export function isTerminal(state: JobState): boolean {
  return TERMINAL_JOB_STATES.has(state);
}
