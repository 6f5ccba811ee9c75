import type { BoxRuntime } from '../build/evaluator-box.js';
import { coerceError } from '../domain/errors.js';
import { RUNNABLE_JOB_STATES, type ChunkLease, type JobRecord } from '../domain/jobs.js';
import { nowIso } from '../domain/types.js';
import type { SandboxLauncher } from '../sandbox/index.js';
import type { EvaluatorRecord } from '../domain/evaluators.js';
import type { Store } from '../store/index.js';
import type { EvaluatorBuilder } from '../services/build-queue.js';
import type { SecretEnv } from '../services/secrets.js';
import { prepareChunk, scoreChunk, SlotPools, writeChunk, type ChunkOutcome, type PreparedChunk, type ScoredChunk } from './chunk-runner.js';
import { createBuildResolver } from './local-builds.js';
import { releaseDeadLocalLeases, workerIdentity } from './lease-owner.js';
import type { Wakeup } from './wakeup.js';
import { createRolloutStage, rolloutAndScore } from './rollout/index.js';
import { failJob, finalizeCancelled, finalizeCompleted } from '../services/finalize.js';

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

/** A leased chunk a slot holds, from its lease to its write. */
interface ClaimedChunk {
  lease: ChunkLease;
  job: JobRecord;
  abort: AbortController;
  /** What the sandbox process printed while scoring this chunk (the job's execution log). */
  logLines: { time: string; text: string }[];
  prepared?: PreparedChunk | 'unavailable';
  /** Stops renewing and watching the lease. */
  unhold(): void;
}

type ScoreOutcome = { kind: 'scored'; scored: ScoredChunk } | { kind: 'error'; error: unknown } | ChunkOutcome;

/** How often a running chunk checks that its job still runs (cancel latency). */
const WATCH_MS = 500;

/** Rows a job must have scored before its error rate can fail it early. */
const MIN_ROWS_FOR_ERROR_RATE = 100;

/**
 * A worker leases chunks from the store and scores them, `slots` at a time. Many workers (in
 * this process, other processes or other hosts) share the same store safely: a chunk's lease is
 * a compare-and-set, and its results are written only while the lease still holds.
 */
export function createWorker(store: Store, launcher: SandboxLauncher, runtime: BoxRuntime, options: WorkerOptions): Worker {
  const { slots, leaseMs = 30_000, pollMs = 200, accountConcurrency = 0, log = () => {} } = options;
  const resolveBuild = createBuildResolver(store, options.builder, options.secretEnv);
  const rollouts = createRolloutStage({
    secretEnv: options.secretEnv ?? (() => Promise.resolve({})),
    rateLimits: options.rolloutRateLimits ?? new Map(),
    recordProgress: (accountId, jobId, count) => store.jobs.addRolloutsDone(accountId, jobId, count),
  });
  const identity = workerIdentity();
  const id = identity.id;
  let running = false;
  const loops: Promise<void>[] = [];
  const inFlight = new Set<AbortController>();
  let lastSweep = 0;

  // Jitter keeps many workers on one database from polling in step.
  const jittered = (ms: number) => ms * (0.75 + Math.random() * 0.5);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, jittered(ms)));

  const slotPools: SlotPools[] = [];

  async function slotLoop(slot: number): Promise<void> {
    const pools = (slotPools[slot] = new SlotPools(launcher, runtime, options.secretEnv));
    const logError = (error: unknown) => log(`worker ${id} slot ${slot}: ${coerceError(error).stack ?? String(error)}`);
    try {
      while (running) {
        const worked = await pipeline(pools, logError).catch((error: unknown) => {
          logError(error);
          return false;
        });
        if (!worked) await (options.wakeup ? options.wakeup.wait(jittered(pollMs)) : sleep(pollMs));
      }
    } finally {
      await pools.close();
    }
  }

  /**
   * Scores chunks back to back while there are any: the next chunk is leased and its rows read
   * while the sandbox process scores the current one, and the current one is written while the
   * process scores the next, so the process waits for neither. The sandbox process scores one
   * chunk at a time; a slot holds at most three chunks (one being written, one scored, one
   * prepared). False when there was no work, or scoring failed (the slot then backs off).
   */
  async function pipeline(pools: SlotPools, logError: (error: unknown) => void): Promise<boolean> {
    let current = await claim();
    if (!current) return false;
    let scoring = score(pools, current);
    let writing: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        const claiming = running ? claim() : Promise.resolve(undefined);
        // A failed lease is the next chunk's failure only: logged, and the pipeline ends.
        const nextClaim = claiming.catch((error: unknown) => void logError(error));
        const scored = await scoring;
        const next = await nextClaim;
        const failed = scored.kind === 'error';
        if (next && failed) await release(next);
        else if (next) scoring = score(pools, next);
        await writing;
        writing = finish(current, scored).catch(logError);
        if (failed) {
          logError(scored.error);
          return false;
        }
        if (!next) return true;
        current = next;
      }
    } finally {
      await writing;
    }
  }

  /** Leases a chunk and prepares it (job RUNNING, evaluator build, input rows); undefined if none. */
  async function claim(): Promise<ClaimedChunk | undefined> {
    if (Date.now() - lastSweep > Math.min(leaseMs, 5_000)) {
      lastSweep = Date.now();
      await sweep(store, leaseMs);
    }
    const now = Date.now();
    const lease = await store.jobs.leaseChunk({ owner: id, now: new Date(now).toISOString(), expireTime: new Date(now + leaseMs).toISOString(), accountLimit: accountConcurrency });
    if (!lease) return undefined;
    let claimed: ClaimedChunk | undefined;
    try {
      const job = await jobStarted(lease);
      // A job deleted since: nothing to score, and nobody else will want the chunk.
      if (!job) return undefined;
      claimed = hold(lease, job);
      // Leased as the worker stopped: stop() could not reach it, so let it go now.
      if (!running) return void (await release(claimed));
      claimed.prepared = await prepareChunk(store, resolveBuild, lease, job);
      return claimed;
    } catch (error) {
      if (claimed) await release(claimed);
      else await store.jobs.releaseChunk(lease);
      throw error;
    }
  }

  /** Only a job's first chunk finds it PENDING: read first, and write the transition only then. */
  async function jobStarted(lease: ChunkLease): Promise<JobRecord | undefined> {
    const seen = await store.jobs.get(lease.accountId, lease.jobId);
    if (seen?.state !== 'JOB_STATE_PENDING') return seen;
    return (await store.jobs.update(lease.accountId, lease.jobId, { state: 'JOB_STATE_RUNNING', startTime: nowIso(), updateTime: nowIso() }, { ifStates: ['JOB_STATE_PENDING'] })) ?? (await store.jobs.get(lease.accountId, lease.jobId));
  }

  /** Holds a lease until the chunk is finished: renews it, and aborts it if the job stops running. */
  function hold(lease: ChunkLease, job: JobRecord): ClaimedChunk {
    const abort = new AbortController();
    inFlight.add(abort);
    const renewal = setInterval(() => void store.jobs.renewLease(lease, new Date(Date.now() + leaseMs).toISOString()), leaseMs / 3);
    // A cancel (or a delete) must not wait for a slow batch: poll the job and abort the batch.
    const watch = setInterval(() => void stillRunnable(lease).then((ok) => ok || abort.abort()), WATCH_MS);
    return {
      lease,
      job,
      abort,
      logLines: [],
      unhold() {
        clearInterval(renewal);
        clearInterval(watch);
        inFlight.delete(abort);
      },
    };
  }

  async function release(claimed: ClaimedChunk): Promise<void> {
    claimed.unhold();
    await store.jobs.releaseChunk(claimed.lease);
  }

  /** Scores a claimed chunk; never throws (a failure is the chunk's outcome, handled by finish). */
  async function score(pools: SlotPools, claimed: ClaimedChunk): Promise<ScoreOutcome> {
    const { prepared } = claimed;
    if (!prepared || prepared === 'unavailable') return { kind: 'unavailable' };
    // The process scores one chunk at a time: what it prints now belongs to this chunk's job.
    pools.setLogSink((text) => claimed.logLines.push({ time: nowIso(), text }));
    try {
      // A job with a rollout step calls its model between prepare and score (runner/rollout/).
      const scored = prepared.job.settings.rollout
        ? await rolloutAndScore(rollouts, pools, prepared, { signal: claimed.abort.signal, stillRunnable: () => stillRunnable(claimed.lease) })
        : await scoreChunk(pools, prepared, claimed.abort.signal);
      return scored === 'stopped' ? { kind: 'stopped' } : { kind: 'scored', scored };
    } catch (error) {
      return { kind: 'error', error };
    }
  }

  /** Writes a scored chunk and does what its outcome calls for; a failed chunk is released. */
  async function finish(claimed: ClaimedChunk, outcome: ScoreOutcome): Promise<void> {
    const { lease, job } = claimed;
    try {
      if (outcome.kind === 'error') return await store.jobs.releaseChunk(lease);
      const written = outcome.kind === 'scored' ? await writeChunk(store, claimed.prepared as PreparedChunk, outcome.scored) : outcome;
      await store.jobs.appendLog(job.accountId, job.id, claimed.logLines.splice(0));
      if (written.kind === 'stopped') await afterStop(lease);
      if (written.kind === 'unavailable') await evaluatorUnavailable(lease, job);
      if (written.kind === 'done') await afterChunk(job, written.remainingChunks ?? 1, written.progress);
    } catch (error: unknown) {
      await store.jobs.releaseChunk(lease);
      throw error;
    } finally {
      claimed.unhold();
    }
  }

  async function stillRunnable(lease: ChunkLease): Promise<boolean> {
    const job = await store.jobs.get(lease.accountId, lease.jobId);
    return job !== undefined && RUNNABLE_JOB_STATES.includes(job.state);
  }

  async function afterStop(lease: ChunkLease): Promise<void> {
    await store.jobs.releaseChunk(lease);
    const job = await store.jobs.get(lease.accountId, lease.jobId);
    if (job?.state === 'JOB_STATE_CANCELLING' && (await store.jobs.countChunks(job.accountId, job.id)).leased === 0) {
      await finalizeCancelled(store, job.accountId, job.id);
    }
  }

  /** A rebuild makes the job wait for the new build; a failed or deleted evaluator fails it. */
  async function evaluatorUnavailable(lease: ChunkLease, job: JobRecord): Promise<void> {
    await store.jobs.releaseChunk(lease);
    const evaluator = await store.evaluators.get(job.accountId, job.evaluatorId);
    if (evaluator?.state === 'BUILDING') {
      await store.jobs.update(job.accountId, job.id, { runnable: false, status: { code: 'OK', message: `waiting for evaluator "${job.evaluatorId}" to finish building` }, updateTime: nowIso() });
      return;
    }
    const reason = evaluator ? `evaluator "${job.evaluatorId}" is ${evaluator.state}: ${evaluator.status.message}` : `evaluator "${job.evaluatorId}" was deleted`;
    await failJob(store, job, reason);
  }

  async function afterChunk(job: JobRecord, remainingChunks: number, progress?: { rowsDone: number; rowsErrored: number }): Promise<void> {
    // The write returned the counters; only the limits (which never change) come from `job`.
    const fresh = progress ? { ...job, progress: { ...job.progress, ...progress } } : ((await store.jobs.get(job.accountId, job.id)) ?? job);
    const { rowsDone, rowsErrored, rowsTotal } = fresh.progress;
    const share = rowsDone > 0 ? rowsErrored / rowsDone : 0;
    if (rowsDone >= Math.min(rowsTotal, MIN_ROWS_FOR_ERROR_RATE) && share > fresh.settings.maxErrorRate) {
      const message = `${rowsErrored} of ${rowsDone} rows scored so far errored (${(share * 100).toFixed(1)}%), over the job's limit of ${(fresh.settings.maxErrorRate * 100).toFixed(1)}%; see the execution log and the errored rows`;
      log(`job ${job.accountId}/${job.id} failed: ${message}`);
      return failJob(store, fresh, message);
    }
    if (remainingChunks === 0) await finalizeCompleted(store, job.accountId, job.id);
  }

  return {
    id,
    start() {
      if (running) return;
      running = true;
      // A restart after kill -9 takes its previous identity's chunks back at once (lease-owner.ts).
      const reclaimed = releaseDeadLocalLeases(store, identity, log).catch((error: unknown) => void log(`worker ${id}: ${String(error)}`));
      for (let slot = 0; slot < slots; slot++) loops.push(reclaimed.then(() => slotLoop(slot)));
    },
    prewarm(evaluator) {
      if (!running || evaluator.state !== 'ACTIVE' || !evaluator.buildDir) return;
      const network = evaluator.spec.allowEgress === true;
      void resolveBuild(evaluator)
        .then((buildDir) => Promise.all(slotPools.map((pools) => pools.prewarm(buildDir, evaluator.accountId, network))))
        .catch((error: unknown) => log(`worker ${id}: could not start a process of evaluator ${evaluator.accountId}/${evaluator.id} ahead of its jobs: ${coerceError(error).message}`));
    },
    async stop() {
      running = false;
      for (const abort of inFlight) abort.abort();
      await Promise.all(loops.splice(0));
    },
  };
}

/**
 * Finishes what crashed workers left: jobs whose chunks are all done but that never got their
 * results written (the worker died in between), and cancelled jobs no worker holds any more.
 */
async function sweep(store: Store, leaseMs: number): Promise<void> {
  const stale = new Date(Date.now() - leaseMs).toISOString();
  for (const job of await store.jobs.listByStates(['JOB_STATE_RUNNING', 'JOB_STATE_WRITING_RESULTS', 'JOB_STATE_CANCELLING'])) {
    if (job.updateTime > stale) continue;
    const chunks = await store.jobs.countChunks(job.accountId, job.id);
    if (job.state === 'JOB_STATE_CANCELLING' && chunks.leased === 0) await finalizeCancelled(store, job.accountId, job.id);
    else if (job.state !== 'JOB_STATE_CANCELLING' && chunks.pending === 0 && chunks.leased === 0) await finalizeCompleted(store, job.accountId, job.id);
  }
}
