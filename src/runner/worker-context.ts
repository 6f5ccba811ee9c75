import type { Store } from '../store/index.js';
import type { JobPace } from './job-pace.js';
import type { BuildResolver } from './local-builds.js';
import type { RolloutStage } from './rollout/index.js';

/** What the parts of a worker (lease loop, slot pipeline, sweeper, prewarm) share. */
export interface WorkerContext {
  readonly store: Store;
  /** host:pid:random, the owner written on this worker's leases. */
  readonly id: string;
  readonly slots: number;
  readonly leaseMs: number;
  readonly accountConcurrency: number;
  readonly resolveBuild: BuildResolver;
  /** Model calls before scoring, for jobs with a rollout step (runner/rollout/). */
  readonly rollouts: RolloutStage;
  /** The per-row time this worker has seen of each job (chunk sizes follow it). */
  readonly pace: JobPace;
  /** The abort controllers of the chunks this worker holds (stop() aborts them). */
  readonly inFlight: Set<AbortController>;
  readonly log: (line: string) => void;
  isRunning(): boolean;
}
