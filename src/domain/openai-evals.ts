/**
 * The OpenAI Evals face (docs/openai-evals.md), the pure half.
 *
 * Terminology (OpenAI's words mapped onto Tally's):
 * - eval: a `data_source_config` (the item schema) plus `testing_criteria` (graders). Tally backs
 *   it with one generated Python criteria evaluator, shared by every eval with the same graders.
 * - run: one eval over one data source (its items). Tally backs it with a dataset of the items and
 *   one evaluation job; the run's status, counts and output items are read from that job.
 * - output item: one item of a run with each grader's result (a row of the job's output).
 */
import type { JobState } from './jobs.js';

export type Metadata = Record<string, string>;

export interface EvalDocument {
  name: string;
  metadata: Metadata | null;
  data_source_config: { type: 'custom'; schema: Record<string, unknown> };
  testing_criteria: Record<string, unknown>[];
}

export interface OpenAiEvalRecord {
  accountId: string;
  id: string;
  /** Unix seconds. */
  createdAt: number;
  updatedAt: number;
  /** The generated evaluator that runs this eval's graders. */
  evaluatorId: string;
  eval: EvalDocument;
}

export interface ResultCounts {
  total: number;
  passed: number;
  failed: number;
  errored: number;
}

export interface CriterionCounts {
  testing_criteria: string;
  passed: number;
  failed: number;
}

export interface RunSummary {
  result_counts: ResultCounts;
  per_testing_criteria_results: CriterionCounts[];
}

export interface RunDocument {
  name: string;
  metadata: Metadata | null;
  model: string;
  data_source: Record<string, unknown>;
  /** Counts kept once the job is over (they no longer change). */
  summary?: RunSummary;
}

export interface OpenAiRunRecord {
  accountId: string;
  id: string;
  evalId: string;
  createdAt: number;
  jobId: string;
  run: RunDocument;
}

export interface CursorRequest {
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

export interface CursorPage<T> {
  items: T[];
  hasMore: boolean;
  /** False when `after` named no item (the page is then empty). */
  afterFound: boolean;
}

export const RUN_STATUSES = ['queued', 'in_progress', 'completed', 'canceled', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The job states each run status stands for; CANCELLING already reads `canceled`: no more items are graded. */
export const JOB_STATES_OF_STATUS: Record<RunStatus, readonly JobState[]> = {
  queued: ['JOB_STATE_UNSPECIFIED', 'JOB_STATE_CREATING', 'JOB_STATE_PENDING', 'JOB_STATE_VALIDATING'],
  in_progress: ['JOB_STATE_RUNNING', 'JOB_STATE_WRITING_RESULTS'],
  completed: ['JOB_STATE_COMPLETED'],
  canceled: ['JOB_STATE_CANCELLED', 'JOB_STATE_CANCELLING', 'JOB_STATE_DELETING', 'JOB_STATE_DELETING_CLEANING_UP'],
  failed: ['JOB_STATE_FAILED', 'JOB_STATE_EXPIRED'],
};

export function runStatusOf(state: JobState): RunStatus {
  for (const status of RUN_STATUSES) if (JOB_STATES_OF_STATUS[status].includes(state)) return status;
  return 'queued';
}

/** OpenAI ids carry their kind as a prefix. */
export const EVAL_ID_PREFIX = 'eval_';
export const RUN_ID_PREFIX = 'evalrun_';
export const OUTPUT_ITEM_ID_PREFIX = 'outputitem_';

/** An output item is a row of the run's job: its id is the row's index under the run. */
export function outputItemId(runId: string, index: number): string {
  return `${OUTPUT_ITEM_ID_PREFIX}${runId.slice(RUN_ID_PREFIX.length)}_${index}`;
}

export function outputItemIndex(runId: string, id: string): number | undefined {
  const prefix = `${OUTPUT_ITEM_ID_PREFIX}${runId.slice(RUN_ID_PREFIX.length)}_`;
  if (!id.startsWith(prefix)) return undefined;
  const text = id.slice(prefix.length);
  return /^\d{1,12}$/.test(text) ? Number(text) : undefined;
}
