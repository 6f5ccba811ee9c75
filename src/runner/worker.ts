import type { BoxRuntime } from '../build/evaluator-box.js';
import type { EvaluatorRecord } from '../domain/evaluators.js';
import type { SandboxLauncher } from '../sandbox/index.js';
import type { Store } from '../store/index.js';
import type { EvaluatorBuilder } from '../services/build-queue.js';
import type { SecretEnv } from '../services/secrets.js';
import { SlotPools } from './chunk-runner.js';
import { JobPace } from './job-pace.js';
import { releaseDeadLocalLeases, workerIdentity } from './lease-owner.js';
import { createBuildResolver } from './local-builds.js';
import { prewarmSlots } from './prewarm.js';
import { createRolloutStage } from './rollout/index.js';
import { describeError, pipeline, type Slot } from './slot-pipeline.js';
import { createSweeper } from './sweeper.js';
import type { Wakeup } from './wakeup.js';
import { createScoreCachePolicy, type ScoreCacheOptions } from './score-cache.js';
import type { WorkerContext } from './worker-context.js';

export interface WorkerOptions {
  /** Chunks scored at once by this worker. @default the number of cores */
  slots: number;
  /** How long a lease lasts without renewal; a dead worker's chunks wait this long. @default 30000 */
  leaseMs?: number;
  /** Idle wait between looks for work. @default 200 */
  pollMs?: number;
  /** Live leases allowed per account across workers; 0 = no limit. @default 0 */
  accountConcurrency?: number;
  /** Wakes idle slots when this process makes a job runnable. */
  wakeup?: Wakeup;
  /** Builds evaluators whose build is not on this host (a worker on another machine). */
  builder?: EvaluatorBuilder;
  /** The secrets of an account, given to its evaluators' sandboxes only. */
  secretEnv?: SecretEnv;
  /** The score cache's bound (entries per account). */
  scoreCache?: ScoreCacheOptions;
  /** Rollout requests per second by endpoint origin (config rolloutRateLimits). @default none */
  rolloutRateLimits?: ReadonlyMap<string, number>;
  log?: (line: string) => void;
}

export interface Worker {
  readonly id: string;
  start(): void;
  /** Starts a sandbox process of a just-built evaluator in every slot, ahead of its first job. */
  prewarm(evaluator: EvaluatorRecord): void;
  /** Stops leasing, lets running chunks finish, releases nothing it completed. */
  stop(): Promise<void>;
}

/**
 * A worker leases chunks from the store and scores them, `slots` at a time. Many workers (in
 * this process, other processes or other hosts) share the same store safely: a chunk's lease is
 * a compare-and-set, and its results are written only while the lease still holds. The parts:
 * lease-loop.ts (claiming a chunk), slot-pipeline.ts (scoring chunks back to back), sweeper.ts
 * (what crashed workers left), prewarm.ts (processes ahead of a new evaluator's first job).
 */
export function createWorker(store: Store, launcher: SandboxLauncher, runtime: BoxRuntime, options: WorkerOptions): Worker {
  const { slots, leaseMs = 30_000, pollMs = 200, accountConcurrency = 0, log = () => {} } = options;
  let running = false;
  const identity = workerIdentity();
  const ctx: WorkerContext = {
    store,
    id: identity.id,
    slots,
    leaseMs,
    accountConcurrency,
    resolveBuild: createBuildResolver(store, options.builder, options.secretEnv),
    rollouts: createRolloutStage({
      secretEnv: options.secretEnv ?? (() => Promise.resolve({})),
      rateLimits: options.rolloutRateLimits ?? new Map(),
      recordProgress: (accountId, jobId, count) => store.jobs.addRolloutsDone(accountId, jobId, count),
    }),
    pace: new JobPace(),
    cachePolicy: createScoreCachePolicy({ ...options.scoreCache, secretEnv: options.secretEnv }),
    inFlight: new Set(),
    log,
    isRunning: () => running,
  };
  const sweep = createSweeper(store, leaseMs);
  const loops: Promise<void>[] = [];
  const slotPools: SlotPools[] = [];

  // Jitter keeps many workers on one database from polling in step.
  const jittered = (ms: number) => ms * (0.75 + Math.random() * 0.5);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, jittered(ms)));

  /** One slot: its pipeline while there is work, an idle wait (or a wakeup) when there is none. */
  async function slotLoop(index: number): Promise<void> {
    const pools = (slotPools[index] = new SlotPools(launcher, runtime, options.secretEnv));
    const slot: Slot = { ctx, pools, sweep, logError: (error) => log(`worker ${ctx.id} slot ${index}: ${describeError(error)}`) };
    try {
      while (running) {
        const worked = await pipeline(slot).catch((error: unknown) => {
          slot.logError(error);
          return false;
        });
        if (!worked) await (options.wakeup ? options.wakeup.wait(jittered(pollMs)) : sleep(pollMs));
      }
    } finally {
      await pools.close();
    }
  }

  return {
    id: ctx.id,
    start() {
      if (running) return;
      running = true;
      // A restart after kill -9 takes its previous identity's chunks back at once (lease-owner.ts).
      const reclaimed = releaseDeadLocalLeases(store, identity, log).catch((error: unknown) => void log(`worker ${ctx.id}: ${String(error)}`));
      for (let index = 0; index < slots; index++) loops.push(reclaimed.then(() => slotLoop(index)));
    },
    prewarm: (evaluator) => prewarmSlots(ctx, slotPools, evaluator),
    async stop() {
      running = false;
      for (const abort of ctx.inFlight) abort.abort();
      await Promise.all(loops.splice(0));
    },
  };
}
