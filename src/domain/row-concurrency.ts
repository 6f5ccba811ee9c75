/**
 * How many rows one sandbox process scores at once (Tally extensions, on the evaluator and
 * overridable per job). An async evaluator gets up to `maxConcurrentEvaluations` rows in flight
 * on one event loop (96 by default, as eval-protocol's `max_concurrent_evaluations`); a sync one
 * runs rows one at a time unless `evaluationThreads` asks for a thread pool of that size.
 */

export const DEFAULT_MAX_CONCURRENT_EVALUATIONS = 96;
export const MAX_CONCURRENT_EVALUATIONS_LIMIT = 1024;
export const MAX_EVALUATION_THREADS = 256;

export interface RowConcurrencySettings {
  /** Rows of an async evaluator in flight at once per process. */
  maxConcurrentEvaluations?: number;
  /** Threads scoring a sync evaluator's rows per process; 0 or 1 = one row at a time. */
  evaluationThreads?: number;
}

/** The job's own setting wins, then the evaluator's, then the defaults. */
export function resolveRowConcurrency(job: RowConcurrencySettings, evaluator: RowConcurrencySettings): { concurrency: number; threads: number } {
  return {
    concurrency: job.maxConcurrentEvaluations ?? evaluator.maxConcurrentEvaluations ?? DEFAULT_MAX_CONCURRENT_EVALUATIONS,
    threads: job.evaluationThreads ?? evaluator.evaluationThreads ?? 0,
  };
}
