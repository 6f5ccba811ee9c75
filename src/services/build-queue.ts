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
    /** Told each step as it begins ("creating the environment: installing 3 requirements"). */
    onStep?: (step: string) => void;
    /** Aborted when the server stops: the build ends at once, and its outcome is not kept. */
    signal?: AbortSignal;
  }): Promise<{ buildDir: string; envHash: string; mode: EvaluatorMode; declaredRollout?: DeclaredRollout }>;
}

export interface BuildEvents {
  onBuildFinished?(evaluator: EvaluatorRecord): void;
}

export interface BuildQueue {
  enqueue(accountId: string, evaluatorId: string): void;
  /** Re-queues builds a previous server process left unfinished. */
  resumePending(): Promise<number>;
  /** Resolves when no build is running or queued (for tests). */
  idle(): Promise<void>;
  /**
   * Stops building (server shutdown): queued builds stay queued and running ones are killed, all
   * left BUILDING with their request recorded, so the next start builds them again.
   */
  stop(): Promise<void>;
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
  const stopping = new AbortController();

  const pump = (): void => {
    while (!stopping.signal.aborted && running < concurrency && waiting.length > 0) {
      const next = waiting.shift()!;
      queued.delete(`${next.accountId}/${next.id}`);
      running++;
      void runOne(next.accountId, next.id).finally(() => {
        running--;
        pump();
      });
    }
    if (running === 0 && (waiting.length === 0 || stopping.signal.aborted)) {
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
    const steps = createStepReporter(store, evaluator);
    try {
      log(`build ${generation} of ${evaluator.accountId}/${evaluator.id} started`);
      steps.report('build started');
      const archive = evaluator.sourceBlobId ? { filename: evaluator.sourceFilename, bytes: store.blobs.read(evaluator.sourceBlobId) } : undefined;
      const built = await builder.build({ evaluator, archive, log, secrets: await secretEnv?.(accountId), onStep: steps.report, signal: stopping.signal });
      log('build succeeded: the evaluator is ACTIVE');
      outcome = { state: 'ACTIVE', status: { code: 'OK', message: '' }, buildDir: built.buildDir, envHash: built.envHash, mode: built.mode, declaredRollout: built.declaredRollout ?? null, updateTime: nowIso() };
    } catch (error: unknown) {
      const message = isApiError(error) ? error.message : `internal build error: ${coerceError(error).message}`;
      log(`build failed: ${message}`);
      outcome = { state: 'BUILD_FAILED', status: { code: 'FAILED_PRECONDITION', message }, updateTime: nowIso() };
    }
    await steps.settled();
    // Stopped, not failed: the request stays, and the next start builds it again.
    if (stopping.signal.aborted) return;
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
      if (queued.has(key) || stopping.signal.aborted) return;
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
      if (running === 0 && (waiting.length === 0 || stopping.signal.aborted)) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    stop() {
      stopping.abort();
      return this.idle();
    },
  };
}

/**
 * Writes each step of a build into the evaluator's status message (`building: <step>`), one write
 * after another so they land in order, and only while the build is still the evaluator's current
 * one (a newer request owns the status then).
 */
function createStepReporter(store: Store, evaluator: EvaluatorRecord) {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    report: (step: string): void => {
      const status = { code: 'OK' as const, message: `building: ${step}` };
      chain = chain
        .then(() => store.evaluators.update(evaluator.accountId, evaluator.id, { status, updateTime: nowIso() }, { ifGeneration: evaluator.buildGeneration }))
        // A lost progress message must not fail the build; the outcome is written regardless.
        .catch(() => undefined);
    },
    settled: (): Promise<unknown> => chain,
  };
}
