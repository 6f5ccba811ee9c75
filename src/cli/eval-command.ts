import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { startServer, type RunningServer } from '../server.js';
import { ApiClient } from './api-client.js';
import { idFromName, idOf } from './client-command.js';
import { uploadDataset } from './dataset-commands.js';
import { createEvaluator } from './evaluator-commands.js';
import { assertCompleted, createJob, finishJob, generatedJobId } from './job-commands.js';
import { metricsTable, watchJob } from './job-view.js';
import { outputFor, type Output } from './terminal.js';

const LOCAL_ACCOUNT = 'local';

/** `tally eval DIR DATA.jsonl`: a throwaway in-process server, one evaluator, one dataset, one job. */
export function registerEvalCommand(program: Command): void {
  program
    .command('eval <dir> <data>')
    .description('evaluate DATA.jsonl with the evaluator in DIR on a temporary in-process server')
    .option('--entry <path.py::func>', 'entry point (default: evaluate() in main.py)')
    .option('--env-dir <dir>', 'cache of Python environments to reuse across runs [env TALLY_ENV_DIR; default: a fresh one]')
    .option('--insecure-local-sandbox', 'run evaluator code WITHOUT isolation (no bubblewrap) [env TALLY_SANDBOX=insecure-local]')
    .option('--json', 'print the finished job as the API returns it')
    .option('--progress', 'draw progress even when stderr is not a terminal')
    .action(async (dir: string, data: string, options: Record<string, unknown>) => {
      if (!statSync(data, { throwIfNoEntry: false })?.isFile()) throw new Error(`${data}: no such file`);
      const output = outputFor(options);
      const dataDir = mkdtempSync(join(tmpdir(), 'tally-eval-'));
      const server = await startLocalServer(dataDir, options, output).catch((error: unknown) => {
        rmSync(dataDir, { recursive: true, force: true });
        throw error;
      });
      try {
        await runEvaluation(server.api, output, dir, data, options);
      } finally {
        await server.running.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
}

async function startLocalServer(dataDir: string, options: Record<string, unknown>, output: Output): Promise<{ running: RunningServer; api: ApiClient }> {
  const env = process.env;
  const apiKey = randomBytes(24).toString('hex');
  // Only the settings this command owns: a TALLY_DATABASE_URL or TALLY_PORT meant for a real
  // server must not leak into the throwaway one.
  const config = loadConfig({
    env: {},
    flags: {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      accountId: LOCAL_ACCOUNT,
      apiKey,
      // No cache under the home directory by default: sandboxed evaluators run as another user
      // and must traverse the path to their environment, which a 0700 home forbids.
      envDir: (options['envDir'] as string | undefined) ?? (env['TALLY_ENV_DIR'] || undefined),
      sandbox: options['insecureLocalSandbox'] ? 'insecure-local' : env['TALLY_SANDBOX'] || undefined,
    },
  });
  const running = await startServer(config, { log: (line) => output.err.write(`tally server: ${line}\n`) });
  return { running, api: new ApiClient({ baseUrl: running.url, apiKey, accountId: LOCAL_ACCOUNT }) };
}

async function runEvaluation(api: ApiClient, output: Output, dir: string, data: string, options: Record<string, unknown>): Promise<void> {
  const evaluator = idOf(await createEvaluator(api, output, dir, { entry: options['entry'] as string | undefined }));
  const dataset = idFromName(basename(data));
  const uploaded = await uploadDataset(api, output, data, dataset);
  output.err.write(`dataset ${dataset}: ${uploaded['exampleCount']} rows\n`);
  const id = generatedJobId();
  await createJob(api, { id, evaluator, dataset });
  const job = await watchJob(api, output, id);
  if (options['json']) return finishJob(output, job, true);
  output.out.write(metricsTable(job['metrics'] as Record<string, number> | undefined));
  assertCompleted(job);
}
