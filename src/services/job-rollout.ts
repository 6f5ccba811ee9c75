/**
 * A job's rollout step at create: what the job asks for over what its evaluator declares,
 * checked against the account (the API key's secret must exist) and the evaluator (rows are
 * rolled out one at a time, so its mode must take them one at a time).
 */
import { failedPrecondition, invalidArgument } from '../domain/errors.js';
import type { EvaluatorRecord } from '../domain/evaluators.js';
import { resolveRollout, type RolloutInput, type RolloutSettings } from '../domain/rollout.js';
import type { Store } from '../store/index.js';

export async function rolloutOfJob(store: Store, accountId: string, asked: RolloutInput | undefined, evaluator: EvaluatorRecord): Promise<RolloutSettings | undefined> {
  if (!asked) return undefined;
  if (evaluator.mode === 'groupwise' || evaluator.mode === 'all') {
    throw failedPrecondition(`evaluationJob.rollout: evaluator "${evaluator.id}" takes rows ${evaluator.mode === 'all' ? 'all at once' : 'by group'}; rollouts are supported for pointwise evaluators only`);
  }
  const rollout = resolveRollout(asked);
  if (rollout.apiKeySecret && !(await store.secrets.listAll(accountId)).some((s) => s.keyName === rollout.apiKeySecret)) {
    throw invalidArgument(`evaluationJob.rollout.apiKeySecret: the account has no secret with keyName "${rollout.apiKeySecret}"; create it first (POST .../secrets)`);
  }
  return rollout;
}
