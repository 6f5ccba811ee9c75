import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EvaluatorRecord } from '../domain/evaluators.js';
import type { EvaluatorBuilder } from '../services/build-queue.js';
import type { SecretEnv } from '../services/secrets.js';
import type { Store } from '../store/index.js';

/**
 * Where a worker finds an evaluator's build. The server that built it has it on disk; a worker
 * on another host builds the same source (from the store) into its own data directory once per
 * build generation, so every host runs the same code in the same kind of environment.
 */
export function createBuildResolver(store: Store, builder: EvaluatorBuilder | undefined, secretEnv?: SecretEnv) {
  const local = new Map<string, Promise<string>>();
  return async (evaluator: EvaluatorRecord): Promise<string> => {
    if (existsSync(join(evaluator.buildDir, 'manifest.json'))) return evaluator.buildDir;
    if (!builder) throw new Error(`build ${evaluator.buildDir} of evaluator ${evaluator.id} is not on this host and this worker cannot build`);
    const key = `${evaluator.accountId}/${evaluator.id}/${evaluator.buildGeneration}`;
    let pending = local.get(key);
    if (!pending) {
      const archive = evaluator.sourceBlobId ? { filename: evaluator.sourceFilename, bytes: store.blobs.read(evaluator.sourceBlobId) } : undefined;
      pending = (async () => (await builder.build({ evaluator, archive, log: () => {}, secrets: await secretEnv?.(evaluator.accountId) })).buildDir)();
      pending.catch(() => local.delete(key));
      local.set(key, pending);
    }
    return pending;
  };
}

export type BuildResolver = ReturnType<typeof createBuildResolver>;
