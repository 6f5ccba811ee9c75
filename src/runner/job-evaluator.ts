import type { EvaluatorRecord } from '../domain/evaluators.js';
import type { JobRecord } from '../domain/jobs.js';
import type { Store } from '../store/index.js';

/**
 * What a job's chunks run: the evaluator revision the job recorded, while that revision's build
 * stands, whatever the evaluator became since (a rollback, a newer revision, a rebuild under
 * way); a job without one (its evaluator had not built yet) runs the evaluator as it is.
 */
export async function evaluatorOfJob(store: Store, job: JobRecord): Promise<EvaluatorRecord | undefined> {
  const evaluator = await store.evaluators.get(job.accountId, job.evaluatorId);
  if (!evaluator || !job.evaluatorRevision || (job.evaluatorRevision === evaluator.currentRevisionId && evaluator.state === 'ACTIVE')) return evaluator;
  const revision = await store.evaluatorRevisions.get(job.accountId, job.evaluatorId, job.evaluatorRevision);
  return revision?.snapshot.state === 'ACTIVE' ? revision.snapshot : evaluator;
}
