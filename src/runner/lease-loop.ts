/**
 * Claiming work: lease a chunk, mark its job RUNNING, hold the lease (renewal, cancel watch),
 * cut the chunk to the rows worth scoring now, read its rows.
 */
import { rowsToScoreNow } from '../domain/chunking.js';
import { RUNNABLE_JOB_STATES, type ChunkLease, type JobRecord } from '../domain/jobs.js';
import { nowIso } from '../domain/types.js';
import { prepareChunk, rowsInFlight, type FitLease, type PreparedChunk, type SlotPools } from './chunk-runner.js';
import { jobKeyOf } from './job-pace.js';
import type { WorkerContext } from './worker-context.js';

/** A leased chunk a slot holds, from its lease to its write. */
export interface ClaimedChunk {
  lease: ChunkLease;
  job: JobRecord;
  abort: AbortController;
  /** What the sandbox process printed while scoring this chunk (the job's execution log). */
  logLines: { time: string; text: string }[];
  prepared?: PreparedChunk | 'unavailable';
  /** Stops renewing and watching the lease. */
  unhold(): void;
}

/** How often a running chunk checks that its job still runs (cancel latency). */
const WATCH_MS = 500;

/** Leases a chunk and prepares it (job RUNNING, evaluator build, input rows); undefined if none. */
export async function claim(ctx: WorkerContext, pools: SlotPools, sweep: () => Promise<void>): Promise<ClaimedChunk | undefined> {
  const { store, leaseMs } = ctx;
  await sweep();
  const now = Date.now();
  const lease = await store.jobs.leaseChunk({ owner: ctx.id, now: new Date(now).toISOString(), expireTime: new Date(now + leaseMs).toISOString(), accountLimit: ctx.accountConcurrency });
  if (!lease) return undefined;
  let claimed: ClaimedChunk | undefined;
  try {
    const job = await jobStarted(ctx, lease);
    // A job deleted since: nothing to score, and nobody else will want the chunk.
    if (!job) return undefined;
    claimed = hold(ctx, lease, job);
    // Leased as the worker stopped: stop() could not reach it, so let it go now.
    if (!ctx.isRunning()) return void (await release(ctx, claimed));
    const prepared = await prepareChunk(store, ctx.resolveBuild, lease, job, fitting(ctx, pools), ctx.cachePolicy);
    if (prepared === 'lost') return void claimed.unhold();
    claimed.prepared = prepared;
    if (prepared !== 'unavailable') claimed.lease = prepared.lease;
    return claimed;
  } catch (error) {
    if (claimed) await release(ctx, claimed);
    else await store.jobs.releaseChunk(lease);
    throw error;
  }
}

/**
 * A chunk Tally planned, of a pointwise evaluator, is cut to what should take about two seconds
 * at the pace seen so far (a probe before any was seen); the rest goes back as a pending chunk
 * for whichever slot is free. Groupwise and all-rows chunks keep their boundaries.
 */
function fitting(ctx: WorkerContext, pools: SlotPools): FitLease {
  return async (lease, job, evaluator, buildDir) => {
    if (job.settings.adaptiveChunks !== true || evaluator.mode === 'groupwise' || evaluator.mode === 'all') return lease;
    const rows = lease.end - lease.start;
    const wanted = rowsToScoreNow(rows, { wallMsPerRow: ctx.pace.wallMsPerRow(jobKeyOf(job)), rowsInFlight: rowsInFlight(pools, buildDir, job, evaluator) });
    return wanted >= rows ? lease : ctx.store.jobs.shrinkLease(lease, lease.start + wanted);
  };
}

/** Only a job's first chunk finds it PENDING: read first, and write the transition only then. */
async function jobStarted({ store }: WorkerContext, lease: ChunkLease): Promise<JobRecord | undefined> {
  const seen = await store.jobs.get(lease.accountId, lease.jobId);
  if (seen?.state !== 'JOB_STATE_PENDING') return seen;
  return (await store.jobs.update(lease.accountId, lease.jobId, { state: 'JOB_STATE_RUNNING', startTime: nowIso(), updateTime: nowIso() }, { ifStates: ['JOB_STATE_PENDING'] })) ?? (await store.jobs.get(lease.accountId, lease.jobId));
}

/** Holds a lease until the chunk is finished: renews it, and aborts it if the job stops running. */
function hold(ctx: WorkerContext, lease: ChunkLease, job: JobRecord): ClaimedChunk {
  const { store, leaseMs } = ctx;
  const abort = new AbortController();
  ctx.inFlight.add(abort);
  // A timer's promise has nobody to await it: a failed renewal or poll (the database briefly away)
  // is logged and tried again at the next tick, never an unhandled rejection that ends the process.
  const logFailure = (what: string) => (error: unknown) => ctx.log(`chunk ${lease.index} of job ${lease.jobId}: ${what} failed (tried again shortly): ${String(error)}`);
  const renewal = setInterval(() => void store.jobs.renewLease(lease, new Date(Date.now() + leaseMs).toISOString()).catch(logFailure('lease renewal')), leaseMs / 3);
  // A cancel (or a delete) must not wait for a slow batch: poll the job and abort the batch.
  const watch = setInterval(() => void stillRunnable(ctx, lease).then((ok) => ok || abort.abort(), logFailure('the cancel check')), WATCH_MS);
  return {
    lease,
    job,
    abort,
    logLines: [],
    unhold() {
      clearInterval(renewal);
      clearInterval(watch);
      ctx.inFlight.delete(abort);
    },
  };
}

export async function release(ctx: WorkerContext, claimed: ClaimedChunk): Promise<void> {
  claimed.unhold();
  await ctx.store.jobs.releaseChunk(claimed.lease);
}

export async function stillRunnable({ store }: WorkerContext, lease: ChunkLease): Promise<boolean> {
  const job = await store.jobs.get(lease.accountId, lease.jobId);
  return job !== undefined && RUNNABLE_JOB_STATES.includes(job.state);
}
