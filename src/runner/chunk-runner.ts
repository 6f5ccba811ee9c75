import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvaluatorBox, BoxRuntime } from '../build/evaluator-box.js';
import { evaluatorSandboxSpec } from '../build/evaluator-box.js';
import { groupKeyOf } from '../domain/chunking.js';
import { rowConcurrencyOf, type EvaluatorRecord } from '../domain/evaluators.js';
import type { ChunkLease, JobRecord, RowResult } from '../domain/jobs.js';
import { redactSecrets } from '../domain/secrets.js';
import { toOutputRowFromText, type OutputRow, type ScoredRow } from '../domain/output-rows.js';
import { nowIso } from '../domain/types.js';
import type { SandboxLauncher } from '../sandbox/index.js';
import type { SecretEnv } from '../services/secrets.js';
import type { Store } from '../store/index.js';
import type { BuildResolver } from './local-builds.js';
import { createSandboxPool, type SandboxPool } from './sandbox-pool.js';
import { lookupScores, type ChunkCache, type ScoreCachePolicy } from './score-cache.js';
import { RawJsonRow } from './protocol.js';
import type { RowOutcome } from './sandbox-process.js';
import { evaluatorOfJob } from './job-evaluator.js';
import { resolveRowConcurrency } from '../domain/row-concurrency.js';

/** A build's pool unused this long is closed at the slot's next use: idle processes hold memory. */
const IDLE_POOL_MS = 10 * 60_000;

/** Rows sent to the sandbox process per message: amortises the pipe, keeps a cancel prompt. */
const BATCH_ROWS = 1000;

export interface ChunkOutcome {
  /**
   * 'done': written; 'lost': another worker owns the chunk now; 'stopped': the job no longer runs;
   * 'unavailable': the evaluator is not ACTIVE (being rebuilt, failed or deleted).
   */
  kind: 'done' | 'lost' | 'stopped' | 'unavailable';
  remainingChunks?: number;
  /** The job's counters right after this chunk was written ('done' only). */
  progress?: { rowsDone: number; rowsErrored: number };
}

/**
 * The sandbox pools of one worker slot, one per evaluator build. A slot runs one chunk at a time,
 * so whatever its processes print belongs to the job the slot is running (the execution log).
 */
export class SlotPools {
  private readonly pools = new Map<string, { pool: SandboxPool; fingerprint: string; lastUsed: number }>();
  private readonly manifests = new Map<string, EvaluatorBox>();
  private logSink: (line: string) => void = () => {};
  private closed = false;

  constructor(
    private readonly launcher: SandboxLauncher,
    private readonly runtime: BoxRuntime,
    /** The secrets of an account, given to its evaluators' processes only. */
    private readonly secretEnv: SecretEnv = () => Promise.resolve({}),
  ) {}

  /** Whether a build's code is async, once one of its processes in this slot has loaded it. */
  asyncOf(buildDir: string): boolean | undefined {
    return this.pools.get(buildDir)?.pool.async;
  }

  setLogSink(sink: (line: string) => void): void {
    this.logSink = sink;
  }

  /**
   * The pool of a build, whose processes get the secrets of `accountId` (the build's owner). The
   * secrets are read for every chunk: when they changed, the pool is replaced, so the next chunk
   * runs in processes that see the new values.
   */
  async poolFor(buildDir: string, accountId: string, network = false): Promise<SandboxPool> {
    const secrets = await this.secretEnv(accountId);
    if (this.closed) throw new Error('the worker slot is closed');
    this.evictIdle(buildDir);
    const fingerprint = createHash('sha256').update(JSON.stringify([network, Object.entries(secrets).sort()])).digest('hex');
    const existing = this.pools.get(buildDir);
    if (existing?.fingerprint === fingerprint) {
      existing.lastUsed = Date.now();
      return existing.pool;
    }
    if (existing) {
      this.pools.delete(buildDir);
      await existing.pool.close();
    }
    const box = this.manifests.get(buildDir) ?? (JSON.parse(await readFile(join(buildDir, 'manifest.json'), 'utf8')) as EvaluatorBox);
    this.manifests.set(buildDir, box);
    const pool = createSandboxPool({
      launcher: this.launcher,
      spec: evaluatorSandboxSpec(box, { ...this.runtime, env: { ...this.runtime.env, ...secrets }, network }),
      // A box of its own PID namespace can be swept of leftovers after every batch.
      manifest: { ...box.manifest, reap_leftovers: this.launcher.isolated },
      loadTimeoutMs: 120_000,
      maxIdle: 1,
      // The execution log is readable through the API: a printed secret is redacted before it is stored.
      onOutput: (stream, text) => this.logSink(redactSecrets(`[${stream}] ${text.trimEnd()}`, secrets)),
    });
    this.pools.set(buildDir, { pool, fingerprint, lastUsed: Date.now() });
    return pool;
  }

  /**
   * Starts a process of a build before its first chunk (the build has just finished), so the
   * first job does not wait for it: bubblewrap, Python and the evaluator's imports took about a
   * tenth of a 100,000-row job, most of it while nothing else could run.
   */
  async prewarm(buildDir: string, accountId: string, network = false): Promise<void> {
    const pool = await this.poolFor(buildDir, accountId, network);
    if (pool.stats.live > 0) return;
    pool.release(await pool.retain());
  }

  /** Closes the pools of builds no chunk has used for a while (their idle processes with them). */
  private evictIdle(keep: string): void {
    const stale = Date.now() - IDLE_POOL_MS;
    for (const [buildDir, entry] of this.pools) {
      if (buildDir === keep || entry.lastUsed > stale) continue;
      this.pools.delete(buildDir);
      void entry.pool.close();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map(({ pool }) => pool.close()));
    this.pools.clear();
  }
}

/** A leased chunk ready to score: its evaluator's build found and its input rows read. */
export interface PreparedChunk {
  lease: ChunkLease;
  job: JobRecord;
  evaluator: EvaluatorRecord;
  buildDir: string;
  input: { idx: number; data: string }[];
  /** The rows the score cache answers, when the job uses it (runner/score-cache.ts). */
  cache?: ChunkCache | undefined;
}

/** A chunk's output rows and results, in row order, ready to write. */
export interface ScoredChunk {
  rows: OutputRow[];
  results: RowResult[];
  /** The outcomes the evaluator gave (not the cache's), for the score cache. */
  fresh?: { idx: number; scored: ScoredRow }[];
}

/** Cuts a leased chunk to the rows to score now (the rest is given back); undefined when the lease was lost. */
export type FitLease = (lease: ChunkLease, job: JobRecord, evaluator: EvaluatorRecord, buildDir: string) => Promise<ChunkLease | undefined>;

/**
 * Everything a chunk needs before its rows go to the evaluator, none of it touching the sandbox:
 * a worker prepares its next chunk while the sandbox process scores the current one.
 * 'unavailable' when the evaluator is not ACTIVE (being rebuilt, failed or deleted); 'lost' when
 * the lease was lost while the chunk was cut to fit.
 */
export async function prepareChunk(
  store: Store,
  resolveBuild: BuildResolver,
  leased: ChunkLease,
  job: JobRecord,
  fit: FitLease = (lease) => Promise.resolve(lease),
  cachePolicy?: ScoreCachePolicy,
): Promise<PreparedChunk | 'unavailable' | 'lost'> {
  const evaluator = await evaluatorOfJob(store, job);
  if (!evaluator || evaluator.state !== 'ACTIVE' || !evaluator.buildDir) return 'unavailable';
  const buildDir = await resolveBuild(evaluator);
  const lease = await fit(leased, job, evaluator, buildDir);
  if (!lease) return 'lost';
  const input = await store.rows.read(job.inputRowSetId, lease.start - 1, lease.end - lease.start);
  return { lease, job, evaluator, buildDir, input, cache: await lookupScores(store, job, evaluator, input, cachePolicy) };
}

/** Rows one process of a build has in flight at once for this job (1 until a process said it is async). */
export function rowsInFlight(pools: SlotPools, buildDir: string, job: JobRecord, evaluator: EvaluatorRecord): number {
  const { concurrency, threads } = resolveRowConcurrency(job.settings, rowConcurrencyOf(evaluator));
  const async = pools.asyncOf(buildDir);
  if (async === undefined) return 1;
  return async ? concurrency : Math.max(1, threads);
}

/**
 * Sends a prepared chunk's rows in batches to a warm sandbox process of the evaluator's build and
 * turns every outcome into an output row. `signal` stops it mid-batch (the job was cancelled or
 * the worker is stopping): 'stopped', and nothing of the chunk is to be written.
 */
export async function scoreChunk(pools: SlotPools, chunk: PreparedChunk, signal: AbortSignal): Promise<ScoredChunk | 'stopped'> {
  const { job, evaluator, input } = chunk;
  // Egress is what the job was created with (shown on the job), not the evaluator's setting now.
  const pool = await pools.poolFor(chunk.buildDir, evaluator.accountId, job.settings.egress === true);
  const rows: ScoredChunk['rows'] = [];
  const results: RowResult[] = [];
  const fresh: NonNullable<ScoredChunk['fresh']> = [];
  const grouped = evaluator.mode === 'groupwise' || evaluator.mode === 'all';
  const { concurrency, threads } = resolveRowConcurrency(job.settings, rowConcurrencyOf(evaluator));
  const hits = chunk.cache?.hits;
  // Rows the cache answers do not go to the evaluator; the output keeps the chunk's row order.
  const toScore = hits?.size ? input.filter((row) => !hits.has(row.idx)) : input;
  const outcomes = new Map<number, ScoredRow>(hits);
  for (const batch of grouped ? groupsOf(toScore, evaluator.mode === 'all') : slices(toScore, BATCH_ROWS)) {
    if (signal.aborted) return 'stopped';
    // The stored texts go to the evaluator and into the output rows without a parse in between.
    const raw = batch.map((r) => new RawJsonRow(r.data));
    // A group is one call of the evaluator: its time limit covers every row of it.
    const perRowTimeoutMs = grouped ? job.settings.perRowTimeoutMs * batch.length : job.settings.perRowTimeoutMs;
    const batchOutcomes = await pool.scoreBatch(raw, { perRowTimeoutMs, signal, group: grouped, concurrency, threads, labels: batch.map((r) => r.idx) });
    if (signal.aborted) return 'stopped';
    batch.forEach((row, i) => {
      const scored = toScoredRow(batchOutcomes[i]);
      outcomes.set(row.idx, scored);
      fresh.push({ idx: row.idx, scored });
    });
  }
  for (const row of input) {
    const output = toOutputRowFromText(row.data, row.idx, outcomes.get(row.idx)!);
    rows.push(output.row);
    results.push(output.result);
  }
  return { rows, results, fresh };
}

/** Writes a scored chunk (rows, results, counters, done) in one transaction, if the lease still holds. */
export async function writeChunk(store: Store, chunk: PreparedChunk, scored: ScoredChunk, cachePolicy?: ScoreCachePolicy): Promise<ChunkOutcome> {
  const { lease, job } = chunk;
  // The chunk's part of the score cache commits with it (runner/score-cache.ts).
  const scoreCache = chunk.cache && cachePolicy ? cachePolicy.chunkPart(job, chunk.cache, scored.fresh ?? []) : undefined;
  const written = await store.jobs.completeChunk(lease, { outputRowSetId: job.outputRowSetId, rows: scored.rows, results: scored.results, now: nowIso(), scoreCache });
  return written ? { kind: 'done', remainingChunks: written.remainingChunks, progress: written.progress } : { kind: 'lost' };
}

function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let offset = 0; offset < items.length; offset += size) out.push(items.slice(offset, offset + size));
  return out;
}

/** The chunk's groups (chunks of groupwise jobs are cut at group boundaries; see chunking.ts). */
function groupsOf<T extends { idx: number; data: string }>(rows: readonly T[], all: boolean): T[][] {
  if (all) return rows.length > 0 ? [[...rows]] : [];
  const groups: T[][] = [];
  let key: string | undefined;
  for (const row of rows) {
    const next = groupKeyOf(JSON.parse(row.data), row.idx);
    if (next !== key || groups.length === 0) groups.push([]);
    groups[groups.length - 1]!.push(row);
    key = next;
  }
  return groups;
}

function toScoredRow(outcome: RowOutcome | undefined): ScoredRow {
  if (!outcome) return { ok: false, kind: 'internal', message: 'the runner got no outcome for this row', ms: 0 };
  if (outcome.ok) {
    const { result, ms } = outcome;
    return { ok: true, score: result.score, isScoreValid: result.is_score_valid, reason: result.reason, metrics: result.metrics, ms };
  }
  if (outcome.retry) return { ok: false, kind: 'cancelled', message: outcome.reason, ms: 0 };
  return { ok: false, kind: outcome.error.kind, message: outcome.error.message, ms: outcome.ms ?? 0 };
}
