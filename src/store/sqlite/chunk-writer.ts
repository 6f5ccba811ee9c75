import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { ChunkLease } from '../../domain/jobs.js';
import type { ChunkCompletion, JobRepo } from '../port.js';
import { outputRowText } from '../../domain/output-rows.js';
import { encodeChunkResults } from '../repos/chunk-results.js';
import { encodeBlocks } from '../repos/row-blocks.js';
import type { ChunkClaim, JobWrites } from '../repos/jobs.js';

type ChunkWritten = Awaited<ReturnType<JobRepo['completeChunk']>>;

/**
 * The thread's code, plain JavaScript so it starts in milliseconds without the TypeScript
 * loader. Its two statements are the SQLite forms of claimChunk and completeChunk in
 * repos/jobs.ts (which PostgreSQL and in-memory databases run); the store conformance suite runs
 * against both. IMMEDIATE takes the write lock as the transaction begins.
 */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
for (const pragma of workerData.pragmas) db.pragma(pragma);

const claim = db.prepare("update job_chunks set state = 'leased', lease_owner = ?, lease_expire_time = ?, attempts = ? " +
  "where account_id = ? and job_id = ? and idx = ? and (state = 'pending' or (state = 'leased' and lease_expire_time < ?))");
const finish = db.prepare("update job_chunks set state = 'done', lease_owner = ?, results = ? " +
  "where account_id = ? and job_id = ? and idx = ? and state = 'leased' and lease_owner = ?");
const insertBlock = db.prepare('insert into row_blocks (row_set_id, first_idx, last_idx, ends, data, layout) values (?, ?, ?, ?, ?, ?)');
const insertRow = db.prepare('insert into rows (row_set_id, idx, data) values (?, ?, ?)');
const counters = db.prepare('update evaluation_jobs set rows_done = rows_done + ?, rows_errored = rows_errored + ?, update_time = ? ' +
  'where account_id = ? and id = ? returning rows_done, rows_errored');
const remaining = db.prepare("select count(*) as n from job_chunks where account_id = ? and job_id = ? and state != 'done'");
// The score cache's part of a chunk (repos/score-cache.ts writeScoreCache, the same statements).
const cachePut = db.prepare('insert into score_cache (account_id, cache_key, result, used_time) values (?, ?, ?, ?) ' +
  'on conflict (account_id, cache_key) do update set result = excluded.result, used_time = excluded.used_time');
const cacheTouch = db.prepare('update score_cache set used_time = ? where account_id = ? and cache_key = ?');
const cacheHits = db.prepare('update evaluation_jobs set rows_cached = rows_cached + ? where account_id = ? and id = ?');
const cacheBoundary = db.prepare('select used_time, cache_key from score_cache where account_id = ? order by used_time desc, cache_key desc limit 1 offset ?');
const cacheEvict = db.prepare('delete from score_cache where account_id = ? and (used_time < ? or (used_time = ? and cache_key <= ?))');
function writeScoreCache(lease, cache, now) {
  for (const e of cache.entries) cachePut.run(lease.accountId, e.key, e.result, now);
  for (const key of cache.hitKeys) cacheTouch.run(now, lease.accountId, key);
  if (cache.hits > 0) cacheHits.run(cache.hits, lease.accountId, lease.jobId);
  if (cache.evictBeyond === undefined) return;
  const boundary = cacheBoundary.get(lease.accountId, cache.evictBeyond);
  if (boundary) cacheEvict.run(lease.accountId, boundary.used_time, boundary.used_time, boundary.cache_key);
}

// One statement for up to BATCH results: binding them row by row cost twice as much.
const BATCH = 1000;
const resultInserts = new Map();
function insertResults(set, c, from, count) {
  let statement = resultInserts.get(count);
  if (!statement) {
    statement = db.prepare('insert into job_results (row_set_id, idx, score, is_valid, error_kind, ms, metrics) values ' +
      new Array(count).fill('(?, ?, ?, ?, ?, ?, ?)').join(', '));
    if (resultInserts.size > 64) resultInserts.clear();
    resultInserts.set(count, statement);
  }
  const values = new Array(count * 7);
  for (let i = 0, at = 0; i < count; i++) {
    const r = from + i;
    values[at++] = set; values[at++] = c.idx[r]; values[at++] = c.score[r]; values[at++] = c.valid[r];
    values[at++] = c.errorKind[r]; values[at++] = c.ms[r]; values[at++] = metricsText(c.metrics[r]);
  }
  statement.run(values);
}

// Most rows have no metrics: their text needs no encoding.
function metricsText(metrics) {
  for (const _ in metrics) return JSON.stringify(metrics);
  return '{}';
}

const complete = db.transaction((m) => {
  const { lease, set, blocks, rows } = m;
  if (finish.run(lease.owner, m.results, lease.accountId, lease.jobId, lease.index, lease.owner).changes !== 1) return undefined;
  if (blocks) for (const b of blocks) insertBlock.run(set, b.first, b.last, b.ends, b.data, b.layout);
  else for (const [idx, text] of rows) insertRow.run(set, idx, text);
  const c = JSON.parse(m.results);
  for (let from = 0; from < c.idx.length; from += BATCH) insertResults(set, c, from, Math.min(BATCH, c.idx.length - from));
  let errored = 0;
  for (const kind of c.errorKind) if (kind !== '') errored++;
  const after = counters.get(c.idx.length, errored, m.now, lease.accountId, lease.jobId);
  if (m.scoreCache) writeScoreCache(lease, m.scoreCache, m.now);
  const left = remaining.get(lease.accountId, lease.jobId);
  return { remainingChunks: Number(left.n), progress: after && { rowsDone: Number(after.rows_done), rowsErrored: Number(after.rows_errored) } };
});

function run(m) {
  if (m.op === 'claim') {
    const { candidate: k, owner, expireTime, now } = m;
    return claim.run(owner, expireTime, k.attempts + 1, k.account_id, k.job_id, k.idx, now).changes === 1;
  }
  return complete.immediate(m);
}

parentPort.on('message', (m) => {
  if (m.op === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage({ id: m.id, result: run(m) });
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String((error && error.message) || error) });
  }
});
`;

export interface ChunkWriter extends JobWrites {
  close(): Promise<void>;
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/**
 * The job runner's writes (taking a chunk, writing a done chunk) from a thread with a
 * connection of its own. better-sqlite3 is synchronous: on node's main thread, inserting and
 * committing each chunk took a quarter of the thread's time during a job while the sandbox
 * processes waited for it to send their next batches; and with the writes here, the main
 * connection seldom waits for SQLite's write lock (a wait that blocks the whole thread).
 * `pragmas` are the per-connection settings the main connection uses.
 */
export function startChunkWriter(path: string, pragmas: readonly string[], { onThread }: { onThread?(thread: Worker): void } = {}): ChunkWriter {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closing = false;

  /**
   * A thread that died (out of memory on a huge chunk, say) takes the writes in flight with it:
   * they fail, their chunks are leased again, and the next write starts a new thread. A write
   * that committed before the thread died is not lost: the chunk is done and the sweeper
   * finishes its job.
   */
  function spawn(): { worker: Worker; exited: Promise<void> } {
    const worker = new Worker(SOURCE, { eval: true, workerData: { path, driver, pragmas } });
    onThread?.(worker);
    const failAll = (error: Error): void => {
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    };
    worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (pending.size === 0) worker.unref();
      if (message.error !== undefined) waiter?.reject(new Error(`store: writing to the database failed: ${message.error}`));
      else waiter?.resolve(message.result);
    });
    worker.on('error', (error) => failAll(new Error(`store: the chunk writer thread failed: ${error.message}`, { cause: error })));
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    void exited.then(() => {
      failAll(new Error('store: the chunk writer thread stopped'));
      if (current?.worker === worker) current = undefined;
    });
    // An idle writer never keeps the process alive; one with writes in flight does.
    worker.unref();
    return { worker, exited };
  }
  let current: { worker: Worker; exited: Promise<void> } | undefined = spawn();

  function send<T>(message: Record<string, unknown>): Promise<T> {
    if (closing) return Promise.reject(new Error('store: the store is closed'));
    const { worker } = (current ??= spawn());
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      worker.ref();
      worker.postMessage({ ...message, id });
    });
  }

  return {
    claimChunk: (claim: ChunkClaim) => send<boolean>({ op: 'claim', ...claim }),
    completeChunk(lease: ChunkLease, completion: ChunkCompletion) {
      // Blocks cross as one string each: cloning a thousand strings cost as much as joining them.
      // Rows whose indexes are not consecutive (no block; chunks are ranges, so not seen in
      // practice) cross as they are.
      const blocks = encodeBlocks(completion.rows, { derived: true });
      const rows = blocks ? undefined : completion.rows.map((row) => [row.idx, outputRowText(row)]);
      return send<ChunkWritten>({ op: 'complete', lease, set: completion.outputRowSetId, now: completion.now, blocks, rows, results: encodeChunkResults(completion.results), scoreCache: completion.scoreCache });
    },
    async close() {
      closing = true;
      if (!current) return;
      current.worker.postMessage({ op: 'close' });
      await current.exited;
    },
  };
}
