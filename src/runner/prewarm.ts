import { coerceError } from '../domain/errors.js';
import type { EvaluatorRecord } from '../domain/evaluators.js';
import type { SlotPools } from './chunk-runner.js';
import type { WorkerContext } from './worker-context.js';

/**
 * Starts a sandbox process of a just-built evaluator in every slot, ahead of its first job:
 * bubblewrap, Python and the evaluator's imports are then paid before anyone waits for them.
 */
export function prewarmSlots(ctx: WorkerContext, slotPools: readonly SlotPools[], evaluator: EvaluatorRecord): void {
  if (!ctx.isRunning() || evaluator.state !== 'ACTIVE' || !evaluator.buildDir) return;
  const network = evaluator.spec.allowEgress === true;
  void ctx.resolveBuild(evaluator)
    .then((buildDir) => Promise.all(slotPools.map((pools) => pools.prewarm(buildDir, evaluator.accountId, network))))
    .catch((error: unknown) => ctx.log(`worker ${ctx.id}: could not start a process of evaluator ${evaluator.accountId}/${evaluator.id} ahead of its jobs: ${coerceError(error).message}`));
}
