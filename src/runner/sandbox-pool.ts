/**
 * Warm sandbox processes for one evaluator build. `scoreBatch` re-runs rows a dead process
 * left unscored on fresh processes, so every row ends with a result or an error.
 */
import {
  startSandboxProcess,
  type RowOutcome,
  type SandboxProcess,
  type ScoreBatchOptions,
  type StartSandboxProcessOptions,
} from './sandbox-process.js';

export interface SandboxPoolOptions extends StartSandboxProcessOptions {
  /** Ready processes kept for reuse. @default 2 */
  maxIdle?: number;
}

export interface SandboxPool {
  /** A ready process: an idle one, or a fresh one (rejects with SandboxStartError). */
  retain(): Promise<SandboxProcess>;
  /** Back to the pool if it is healthy; a dead or busy one is never pooled. */
  release(proc: SandboxProcess): void;
  kill(proc: SandboxProcess): Promise<void>;
  /** One outcome per row, none of them `retry` unless the batch was cancelled. */
  scoreBatch(rows: readonly object[], options: ScoreBatchOptions): Promise<RowOutcome[]>;
  close(): Promise<void>;
  readonly stats: { started: number; live: number; idle: number };
  /** Whether the build's code is async (many rows in flight at once); undefined before a process loaded it. */
  readonly async: boolean | undefined;
}

export function createSandboxPool(options: SandboxPoolOptions): SandboxPool {
  const { maxIdle = 2 } = options;
  const idle: SandboxProcess[] = [];
  const live = new Set<SandboxProcess>();
  let started = 0;
  let closing = false;
  let async: boolean | undefined;

  const pool: SandboxPool = {
    async retain() {
      if (closing) throw new Error('sandbox pool is closed');
      for (let proc = idle.pop(); proc; proc = idle.pop()) {
        if (proc.state === 'ready') return proc;
        live.delete(proc);
      }
      started += 1;
      const proc = await startSandboxProcess(options);
      async = proc.async;
      // Closed while it started (a worker stopping): it must not outlive the pool.
      if (closing) {
        await proc.close();
        throw new Error('sandbox pool is closed');
      }
      live.add(proc);
      return proc;
    },
    release(proc) {
      if (!closing && proc.state === 'ready' && idle.length < maxIdle && !idle.includes(proc)) {
        idle.push(proc);
        return;
      }
      live.delete(proc);
      void (proc.state === 'ready' ? proc.close() : proc.kill());
    },
    async kill(proc) {
      live.delete(proc);
      const at = idle.indexOf(proc);
      if (at >= 0) idle.splice(at, 1);
      await proc.kill();
    },
    scoreBatch: (rows, batchOptions) => scoreAll(pool, rows, batchOptions),
    async close() {
      closing = true;
      idle.length = 0;
      await Promise.all([...live].map((proc) => proc.close()));
      live.clear();
    },
    get stats() {
      return { started, live: live.size, idle: idle.length };
    },
    get async() {
      return async;
    },
  };
  return pool;
}

async function scoreAll(pool: SandboxPool, rows: readonly object[], options: ScoreBatchOptions): Promise<RowOutcome[]> {
  const outcomes: RowOutcome[] = [];
  let careful = options.careful ?? false;
  // Each round settles at least one row, except a suspect death, which a careful round settles.
  for (let round = 0; outcomes.length < rows.length && round <= 2 * rows.length + 2; round += 1) {
    if (options.signal?.aborted) break;
    const proc = await pool.retain();
    const got = await proc.scoreBatch(rows.slice(outcomes.length), { ...options, careful, ...(options.labels ? { labels: options.labels.slice(outcomes.length) } : {}) });
    if (proc.state === 'ready') pool.release(proc);
    else await pool.kill(proc);
    const firstRetry = got.findIndex((o) => o.retry === true);
    outcomes.push(...(firstRetry === -1 ? got : got.slice(0, firstRetry)));
    const retry = got[firstRetry];
    if (!retry?.retry) continue;
    if (!retry.suspect && firstRetry === 0 && options.signal?.aborted) break;
    // A sudden death with results possibly still buffered: re-run flushing every row to pin it.
    careful = retry.suspect !== undefined || (options.careful ?? false);
  }
  const reason = options.signal?.aborted ? 'the batch was cancelled' : 'gave up after repeated process failures';
  while (outcomes.length < rows.length) outcomes.push({ ok: false, retry: true, reason });
  return outcomes;
}
