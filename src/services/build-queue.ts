import { randomUUID } from 'node:crypto';
import { coerceError, isApiError } from '../domain/errors.js';
import type { DeclaredRollout, EvaluatorMode, EvaluatorRecord } from '../domain/evaluators.js';
import { nowIso } from '../domain/types.js';
import type { Store } from '../store/index.js';
import type { SecretEnv } from './secrets.js';

/** What turns an evaluator's source into a runnable build. Implemented in src/build/. */
export interface EvaluatorBuilder {
  build(input: {
    evaluator: EvaluatorRecord;
    /** The uploaded archive, when the code came by upload. */
    archive: { filename: string; bytes: AsyncIterable<Uint8Array> } | undefined;
    log: (line: string) => void;
    /** The account's secrets (keyName -> value): the sandbox environment, and what the log must not show. */
    secrets?: Record<string, string>;
  }): Promise<{ buildDir: string; envHash: string; mode: EvaluatorMode; declaredRollout?: DeclaredRollout }>;
}

export interface BuildEvents {
  onBuildFinished?(evaluator: EvaluatorRecord): void;
}

export interface BuildQueue {
  enqueue(accountId: string, evaluatorId: string): void;
  /** Re-queues builds a previous server process left unfinished. */
  resumePending(): Promise<number>;
  /** Resolves when no build is running or queued (for shutdown and tests). */
  idle(): Promise<void>;
}

/**
 * Runs builds in the background, `concurrency` at a time. Every outcome is written only if the
 * evaluator's build generation is still the one the build started from, so a PATCH or a new
 * upload during a build wins over the older build. A build that throws unexpectedly still ends in
 * BUILD_FAILED: an evaluator is never left BUILDING by a failed build.
 */
export function createBuildQueue(
  store: Store,
  builder: EvaluatorBuilder,
  { concurrency = 2, events = {} as BuildEvents, secretEnv = undefined as SecretEnv | undefined } = {},
): BuildQueue {
  const waiting: { accountId: string; id: string }[] = [];
  const queued = new Set<string>();
  let running = 0;
  let idleWaiters: (() => void)[] = [];

  const pump = (): void => {
    while (running < concurrency && waiting.length > 0) {
      const next = waiting.shift()!;
      queued.delete(`${next.accountId}/${next.id}`);
      running++;
      void runOne(next.accountId, next.id).finally(() => {
        running--;
        pump();
      });
    }
    if (running === 0 && waiting.length === 0) {
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
    }
  };

  async function runOne(accountId: string, id: string): Promise<void> {
    const evaluator = await store.evaluators.get(accountId, id);
    if (!evaluator || evaluator.buildRequestTime === '') return;
    const lines: string[] = [];
    const log = (line: string): void => void lines.push(`${nowIso()} ${line}`);
    const generation = evaluator.buildGeneration;
    let outcome: Parameters<Store['evaluators']['update']>[2];
    try {
      log(`build ${generation} of ${evaluator.accountId}/${evaluator.id} started`);
      const archive = evaluator.sourceBlobId ? { filename: evaluator.sourceFilename, bytes: store.blobs.read(evaluator.sourceBlobId) } : undefined;
      const built = await builder.build({ evaluator, archive, log, secrets: await secretEnv?.(accountId) });
      log('build succeeded: the evaluator is ACTIVE');
      outcome = { state: 'ACTIVE', status: { code: 'OK', message: '' }, buildDir: built.buildDir, envHash: built.envHash, mode: built.mode, declaredRollout: built.declaredRollout ?? null, updateTime: nowIso() };
    } catch (error: unknown) {
      const message = isApiError(error) ? error.message : `internal build error: ${coerceError(error).message}`;
      log(`build failed: ${message}`);
      outcome = { state: 'BUILD_FAILED', status: { code: 'FAILED_PRECONDITION', message }, updateTime: nowIso() };
    }
    const logBlobId = `log-${randomUUID()}`;
    await store.blobs.write(accountId, logBlobId, [Buffer.from(lines.join('\n') + '\n')]);
    const updated = await store.evaluators.update(
      accountId,
      id,
      { ...outcome, buildRequestTime: '', buildLogBlobId: logBlobId },
      { ifGeneration: generation },
    );
    if (!updated) return void (await store.blobs.delete(logBlobId));
    if (evaluator.buildLogBlobId) await store.blobs.delete(evaluator.buildLogBlobId);
    events.onBuildFinished?.(updated);
  }

  return {
    enqueue(accountId, id) {
      const key = `${accountId}/${id}`;
      if (queued.has(key)) return;
      queued.add(key);
      waiting.push({ accountId, id });
      pump();
    },
    async resumePending() {
      const pending = await store.evaluators.listPendingBuilds();
      for (const evaluator of pending) this.enqueue(evaluator.accountId, evaluator.id);
      return pending.length;
    },
    idle() {
      if (running === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
