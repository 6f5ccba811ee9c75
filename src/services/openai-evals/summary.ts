import { passes, type Grader } from '../../domain/graders/criteria.js';
import type { JobRecord, RowResult } from '../../domain/jobs.js';
import type { RunSummary } from '../../domain/openai-evals.js';
import type { Store } from '../../store/index.js';

/** An item's outcome: errored when any grader could not score it, else passed when every grader passed. */
export function itemOutcome(result: Pick<RowResult, 'isScoreValid' | 'metrics'>, graders: Grader[]): 'pass' | 'fail' | 'error' {
  if (!result.isScoreValid) return 'error';
  return graders.every((g) => passes(g, result.metrics[g.name] ?? 0)) ? 'pass' : 'fail';
}

/** result_counts and per_testing_criteria_results from the job's stored results (no row text is read). */
export async function summarize(store: Store, job: JobRecord, graders: Grader[]): Promise<RunSummary> {
  const counts = { total: job.progress.rowsTotal, passed: 0, failed: 0, errored: 0 };
  const perGrader = graders.map((g) => ({ testing_criteria: g.name, passed: 0, failed: 0 }));
  for (let after = -1; ; ) {
    const results = job.outputRowSetId ? await store.jobs.readResults(job.outputRowSetId, after, 2000) : [];
    if (results.length === 0) break;
    for (const result of results) {
      const outcome = itemOutcome(result, graders);
      if (outcome === 'error') counts.errored++;
      else counts[outcome === 'pass' ? 'passed' : 'failed']++;
      if (outcome === 'error') continue;
      graders.forEach((g, i) => perGrader[i]![passes(g, result.metrics[g.name] ?? 0) ? 'passed' : 'failed']++);
    }
    after = results[results.length - 1]!.idx;
  }
  return { result_counts: counts, per_testing_criteria_results: perGrader };
}
