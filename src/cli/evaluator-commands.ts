import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ApiClient, Json } from './api-client.js';
import { withClientOptions } from './client-config.js';
import { clientAction, idFromName, idOf, listAll, printJson, type ClientContext } from './client-command.js';
import { packDirectory } from './pack.js';
import { formatBytes, keyValues, sleep, spinner, StatusLine, table, type Output } from './terminal.js';
import { uploadThroughSignedUrl } from './upload.js';

export function registerEvaluatorCommands(program: Command): void {
  const evaluator = program.command('evaluator').description('manage evaluators on a Tally server');
  withClientOptions(evaluator.command('create <dir>').description('pack a folder, upload it and wait for the build'))
    .option('--id <evaluatorId>', 'evaluator id (default: from the folder name)')
    .option('--entry <path.py::func>', 'entry point (default: evaluate() in main.py)')
    .action(clientAction(async (context, dir) => {
      const built = await createEvaluator(context.api, context.output, dir!, context.options as EvaluatorCreateOptions);
      printEvaluator(context, built);
    }));
  withClientOptions(evaluator.command('list').description('list evaluators')).action(clientAction(async (context) => {
    const evaluators = await listAll(context, await context.api.path('evaluators'), 'evaluators');
    if (context.json) return printJson(context.output, { evaluators });
    context.output.out.write(table(['ID', 'STATE', 'DISPLAY NAME', 'UPDATED'], evaluators.map((e) => [idOf(e), e['state'] as string, e['displayName'] as string, e['updateTime'] as string])));
  }));
  withClientOptions(evaluator.command('get <evaluatorId>').description('show an evaluator')).action(clientAction(async (context, id) => {
    printEvaluator(context, await context.api.call('GET', await context.api.path(`evaluators/${id}`)));
  }));
  withClientOptions(evaluator.command('logs <evaluatorId>').description('print the build log')).action(clientAction(async (context, id) => {
    context.output.out.write(await buildLog(context.api, id!));
  }));
  withClientOptions(evaluator.command('delete <evaluatorId>').description('delete an evaluator')).action(clientAction(async (context, id) => {
    const answer = await context.api.call('DELETE', await context.api.path(`evaluators/${id}`));
    if (context.json) return printJson(context.output, answer);
    context.output.out.write(`deleted evaluator ${id}\n`);
  }));
}

export interface EvaluatorCreateOptions {
  id?: string;
  entry?: string;
}

/** Pack, create, upload, validate, wait; answers the ACTIVE evaluator or throws with the build log printed. */
export async function createEvaluator(api: ApiClient, output: Output, dir: string, options: EvaluatorCreateOptions): Promise<Json> {
  const root = resolve(dir);
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${dir}: not a directory`);
  const folder = basename(root);
  const id = options.id ?? idFromName(folder);
  const scratch = mkdtempSync(join(tmpdir(), 'tally-pack-'));
  try {
    const archive = join(scratch, `${folder}.tar.gz`);
    const packed = await packDirectory(root, archive);
    output.err.write(`packed ${packed.files.length} file(s) from ${dir} (${formatBytes(packed.bytes)})\n`);
    const evaluator: Json = { displayName: folder };
    if (options.entry) evaluator['entryPoint'] = options.entry;
    await api.call('POST', await api.path('evaluatorsV2'), { evaluatorId: id, evaluator });
    await uploadThroughSignedUrl(api, output, await api.path(`evaluators/${id}`), archive, `${folder}.tar.gz`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return waitForBuild(api, output, id);
}

async function waitForBuild(api: ApiClient, output: Output, id: string): Promise<Json> {
  const status = new StatusLine(output);
  const started = Date.now();
  for (let n = 0; ; n++) {
    const evaluator = await api.call('GET', await api.path(`evaluators/${id}`));
    const state = String(evaluator['state']);
    if (state === 'ACTIVE') {
      status.done(`evaluator ${id}: ACTIVE (built in ${((Date.now() - started) / 1000).toFixed(1)}s)`);
      return evaluator;
    }
    if (state === 'BUILD_FAILED') {
      status.done(`evaluator ${id}: BUILD_FAILED`);
      const message = (evaluator['status'] as { message?: string } | undefined)?.message ?? '';
      output.err.write(`status: ${message}\n--- build log ---\n${await buildLog(api, id).catch((e: Error) => `(no build log: ${e.message})\n`)}`);
      throw new Error(`evaluator ${id} failed to build: ${message}`);
    }
    status.update(`building evaluator ${id} ${spinner(n)} ${state} ${Math.round((Date.now() - started) / 1000)}s`, `evaluator ${id}: ${state}`);
    await sleep(300);
  }
}

async function buildLog(api: ApiClient, id: string): Promise<string> {
  const endpoint = await api.call('GET', await api.path(`evaluators/${id}:getBuildLogEndpoint`));
  const uri = endpoint['buildLogSignedUri'] as string | undefined;
  if (!uri) return '';
  return (await api.fetchSigned(uri)).text();
}

function printEvaluator(context: ClientContext, evaluator: Json): void {
  if (context.json) return printJson(context.output, evaluator);
  const status = evaluator['status'] as { code?: string; message?: string } | undefined;
  context.output.out.write(keyValues([
    ['id', idOf(evaluator)],
    ['name', evaluator['name']],
    ['state', evaluator['state']],
    ['status', status?.message || status?.code],
    ['entryPoint', evaluator['entryPoint']],
    ['updated', evaluator['updateTime']],
  ]));
}
