import { failedPrecondition, notFound } from '../domain/errors.js';
import type { EvaluatorRecord } from '../domain/evaluators.js';
import type { Store } from '../store/index.js';

/**
 * The evaluator a new job runs: with `evaluatorVersion` (a revision id, `latest`, `current` or a
 * user's alias) that revision, which must have built; else the evaluator as it is now. The job
 * records the revision either way (none yet while a first build runs).
 */
export async function evaluatorForNewJob(store: Store, evaluator: EvaluatorRecord, version: string | undefined): Promise<{ evaluator: EvaluatorRecord; revisionId: string }> {
  if (!version) return { evaluator, revisionId: evaluator.state === 'ACTIVE' ? (evaluator.currentRevisionId ?? '') : '' };
  const revisions = store.evaluatorRevisions;
  const { accountId, id } = evaluator;
  const revision =
    version === 'latest' ? await revisions.latest(accountId, id)
    : version === 'current' ? (evaluator.currentRevisionId ? await revisions.get(accountId, id, evaluator.currentRevisionId) : undefined)
    : ((await revisions.get(accountId, id, version)) ?? (await revisions.findByAlias(accountId, id, version)));
  if (!revision) throw notFound(`evaluationJob.evaluatorVersion: revision "${version}" of evaluator "${id}" not found`);
  if (revision.snapshot.state !== 'ACTIVE') throw failedPrecondition(`evaluationJob.evaluatorVersion: revision "${revision.id}" is ${revision.snapshot.state}; pick one that built`);
  return { evaluator: revision.snapshot, revisionId: revision.id };
}

/** Jobs that waited for a build run the revision it made. */
export async function recordRevisionOfWaitingJobs(store: Store, evaluator: EvaluatorRecord): Promise<void> {
  if (!evaluator.currentRevisionId) return;
  for (const job of await store.jobs.listWaitingFor(evaluator.accountId, evaluator.id)) {
    if (!job.evaluatorRevision) await store.jobs.update(job.accountId, job.id, { evaluatorRevision: evaluator.currentRevisionId, updateTime: job.updateTime });
  }
}
