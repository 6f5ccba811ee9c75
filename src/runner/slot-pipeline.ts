/**
 * One slot's pipeline: score a chunk while the next one is leased and prepared and the previous
 * one written, so the sandbox process waits for neither, but never holding a chunk it is not
 * scoring while other slots could take it (no hoarding).
 */
import { coerceError } from '../domain/errors.js';
import type { ChunkLease, JobRecord } from '../domain/jobs.js';
import { nowIso } from '../domain/types.js';
import { scoreChunk, writeChunk, type ChunkOutcome, type PreparedChunk, type ScoredChunk, type SlotPools } from './chunk-runner.js';
import { failJob, finalizeCancelled, finalizeCompleted } from '../services/finalize.js';
import { jobKeyOf } from './job-pace.js';
import { claim, release, stillRunnable, type ClaimedChunk } from './lease-loop.js';
import { rolloutAndScore } from './rollout/index.js';
import type { WorkerContext } from './worker-context.js';

type ScoreOutcome = { kind: 'scored'; scored: ScoredChunk } | { kind: 'error'; error: unknown } | ChunkOutcome;

/** Rows a job must have scored before its error rate can fail it early. */
const MIN_ROWS_FOR_ERROR_RATE = 100;

export interface Slot {
  ctx: WorkerContext;
  pools: SlotPools;
  sweep: () => Promise<void>;
  logError(error: unknown): void;
}

/**
 * Scores chunks back to back while there are any. The sandbox process scores one chunk at a
 * time; a slot holds at most three chunks (one being written, one scored, one prepared), and the
 * next is leased ahead only while enough chunks stay unleased for the worker's other slots.
 * False when there was no work, or scoring failed (the slot then backs off).
 */
export async function pipeline(slot: Slot): Promise<boolean> {
  const { ctx } = slot;
  const first = await claim(ctx, slot.pools, slot.sweep);
  if (!first) return false;
  let current: ClaimedChunk = first;
  let scoring = score(slot, current);
  let writing: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      // A failed lease is the next chunk's failure only: logged, and the pipeline ends.
      const nextClaim: Promise<ClaimedChunk | undefined> = prefetch(slot, current).catch((error: unknown) => void slot.logError(error));
      const scored = await scoring;
      // Not leased ahead (others may need it): lease now, while the last chunk is written.
      const next: ClaimedChunk | undefined = (await nextClaim) ?? (scored.kind !== 'error' && ctx.isRunning() ? await claimNow(slot) : undefined);
      const failed = scored.kind === 'error';
      if (next && failed) await release(ctx, next);
      else if (next) scoring = score(slot, next);
      await writing;
      writing = finish(ctx, current, scored).catch(slot.logError);
      if (failed) {
        slot.logError(scored.error);
        return false;
      }
      if (!next) return true;
      current = next;
    }
  } finally {
    await writing;
  }
}

/** The next chunk, leased while the current one scores, only if unleased chunks remain for the others. */
async function prefetch(slot: Slot, current: ClaimedChunk): Promise<ClaimedChunk | undefined> {
  const { ctx } = slot;
  if (!ctx.isRunning()) return undefined;
  const { pending } = await ctx.store.jobs.countChunks(current.job.accountId, current.job.id);
  // Taking one must leave one for each of this worker's other slots; otherwise wait until this
  // slot is free, so an idle slot gets the chunk instead (docs/architecture.md: other workers' slots).
  if (pending < ctx.slots) return undefined;
  return claim(ctx, slot.pools, slot.sweep);
}

async function claimNow(slot: Slot): Promise<ClaimedChunk | undefined> {
  return claim(slot.ctx, slot.pools, slot.sweep).catch((error: unknown) => void slot.logError(error));
}

/** Scores a claimed chunk; never throws (a failure is the chunk's outcome, handled by finish). */
async function score({ ctx, pools }: Slot, claimed: ClaimedChunk): Promise<ScoreOutcome> {
  const { prepared } = claimed;
  if (!prepared || prepared === 'unavailable') return { kind: 'unavailable' };
  // The process scores one chunk at a time: what it prints now belongs to this chunk's job.
  pools.setLogSink((text) => claimed.logLines.push({ time: nowIso(), text }));
  try {
    const started = performance.now();
    // A job with a rollout step calls its model between prepare and score (runner/rollout/).
    const scored = prepared.job.settings.rollout
      ? await rolloutAndScore(ctx.rollouts, pools, prepared, { signal: claimed.abort.signal, stillRunnable: () => stillRunnable(ctx, claimed.lease) })
      : await scoreChunk(pools, prepared, claimed.abort.signal);
    if (scored === 'stopped') return { kind: 'stopped' };
    ctx.pace.observe(jobKeyOf(claimed.job), prepared.input.length, performance.now() - started);
    return { kind: 'scored', scored };
  } catch (error) {
    return { kind: 'error', error };
  }
}

/** Writes a scored chunk and does what its outcome calls for; a failed chunk is released. */
async function finish(ctx: WorkerContext, claimed: ClaimedChunk, outcome: ScoreOutcome): Promise<void> {
  const { store } = ctx;
  const { lease, job } = claimed;
  try {
    if (outcome.kind === 'error') return await store.jobs.releaseChunk(lease);
    const written = outcome.kind === 'scored' ? await writeChunk(store, claimed.prepared as PreparedChunk, outcome.scored, ctx.cachePolicy) : outcome;
    await store.jobs.appendLog(job.accountId, job.id, claimed.logLines.splice(0));
    if (written.kind === 'stopped') await afterStop(ctx, lease);
    if (written.kind === 'unavailable') await evaluatorUnavailable(ctx, lease, job);
    if (written.kind === 'done') await afterChunk(ctx, job, written.remainingChunks ?? 1, written.progress);
  } catch (error: unknown) {
    await store.jobs.releaseChunk(lease);
    throw error;
  } finally {
    claimed.unhold();
  }
}

async function afterStop({ store }: WorkerContext, lease: ChunkLease): Promise<void> {
  await store.jobs.releaseChunk(lease);
  const job = await store.jobs.get(lease.accountId, lease.jobId);
  if (job?.state === 'JOB_STATE_CANCELLING' && (await store.jobs.countChunks(job.accountId, job.id)).leased === 0) {
    await finalizeCancelled(store, job.accountId, job.id);
  }
}

/** A rebuild makes the job wait for the new build; a failed or deleted evaluator fails it. */
async function evaluatorUnavailable({ store }: WorkerContext, lease: ChunkLease, job: JobRecord): Promise<void> {
  await store.jobs.releaseChunk(lease);
  const evaluator = await store.evaluators.get(job.accountId, job.evaluatorId);
  if (evaluator?.state === 'BUILDING') {
    await store.jobs.update(job.accountId, job.id, { runnable: false, status: { code: 'OK', message: `waiting for evaluator "${job.evaluatorId}" to finish building` }, updateTime: nowIso() });
    return;
  }
  const reason = evaluator ? `evaluator "${job.evaluatorId}" is ${evaluator.state}: ${evaluator.status.message}` : `evaluator "${job.evaluatorId}" was deleted`;
  await failJob(store, job, reason);
}

async function afterChunk({ store, log }: WorkerContext, job: JobRecord, remainingChunks: number, progress?: { rowsDone: number; rowsErrored: number }): Promise<void> {
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

export const describeError = (error: unknown): string => coerceError(error).stack ?? String(error);
