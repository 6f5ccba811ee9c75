import type { Command } from 'commander';
import { databaseUrlOf } from '../config/index.js';
import { createEvaluatorRuntime } from '../runtime.js';
import { startWorker } from '../server.js';
import { openStore } from '../store/index.js';
import { configFrom, withStoreOptions } from './options.js';

/** `tally worker`: scores job chunks from a shared store, on this host or another. */
export function registerWorkerCommand(program: Command): void {
  withStoreOptions(
    program
      .command('worker')
      .description('run a worker that leases and scores job chunks from the database (use with --database postgres://...)')
      .option('--slots <n>', 'chunks scored at once [env TALLY_WORKER_SLOTS, default: cores]')
      .option('--insecure-local-sandbox', 'run evaluator code WITHOUT isolation (no bubblewrap)'),
  ).action(async (options: Record<string, unknown>) => {
    const config = configFrom({ ...options, workerSlots: options['slots'] });
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const runtime = await createEvaluatorRuntime(config);
    for (const warning of runtime.warnings) log(warning);
    const store = await openStore({ url: databaseUrlOf(config) });
    const worker = startWorker(store, runtime, { config, log });
    process.stdout.write(`tally worker ${worker.id} started: ${config.workerSlots} slots on ${store.dialect}\n`);
    const stop = (): void => {
      void worker.stop().then(() => store.close()).then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
