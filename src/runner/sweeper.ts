import type { Store } from '../store/index.js';
import { finalizeCancelled, finalizeCompleted } from '../services/finalize.js';

/**
 * Finishes what crashed workers left: jobs whose chunks are all done but that never got their
 * results written (the worker died in between), and cancelled jobs no worker holds any more.
 */
export async function sweep(store: Store, leaseMs: number): Promise<void> {
  const stale = new Date(Date.now() - leaseMs).toISOString();
  for (const job of await store.jobs.listByStates(['JOB_STATE_RUNNING', 'JOB_STATE_WRITING_RESULTS', 'JOB_STATE_CANCELLING'])) {
    if (job.updateTime > stale) continue;
    const chunks = await store.jobs.countChunks(job.accountId, job.id);
    if (job.state === 'JOB_STATE_CANCELLING' && chunks.leased === 0) await finalizeCancelled(store, job.accountId, job.id);
    else if (job.state !== 'JOB_STATE_CANCELLING' && chunks.pending === 0 && chunks.leased === 0) await finalizeCompleted(store, job.accountId, job.id);
  }
}

/** A sweep at most every min(lease, 5 s), whichever slot of the worker asks. */
export function createSweeper(store: Store, leaseMs: number): () => Promise<void> {
  let lastSweep = 0;
  return async () => {
    if (Date.now() - lastSweep <= Math.min(leaseMs, 5_000)) return;
    lastSweep = Date.now();
    await sweep(store, leaseMs);
  };
}
