import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/** How often the background connection copies the WAL into the database file. */
const CHECKPOINT_MS = 250;

/**
 * The thread's code, plain JavaScript so it runs without the TypeScript loader. A PASSIVE
 * checkpoint takes no writer lock: the server's connection keeps committing while it copies.
 */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} }, workerData.everyMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

export interface Checkpointer {
  close(): Promise<void>;
}

/**
 * Checkpoints a WAL database from a thread of its own. SQLite's automatic checkpoint runs inside
 * the commit that crosses the threshold, on the connection's thread: here that is node's main
 * thread, so every few chunks a job's commit stalled for the copy while the sandbox processes
 * waited for their next batch. The automatic checkpoint stays as a backstop (a larger threshold).
 */
export function startCheckpointer(path: string): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(SOURCE, { eval: true, workerData: { path, driver, everyMs: CHECKPOINT_MS } });
  // A checkpoint thread must never keep the process alive nor crash it.
  worker.unref();
  worker.on('error', () => {});
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async close() {
      worker.postMessage('close');
      await exited;
    },
  };
}
