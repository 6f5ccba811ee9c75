import { createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { ApiClient, Json } from './api-client.js';
import { withClientOptions } from './client-config.js';
import { clientAction, idFromName, idOf, listAll, printJson, type ClientContext } from './client-command.js';
import { keyValues, table, type Output } from './terminal.js';
import { uploadThroughSignedUrl } from './upload.js';

export function registerDatasetCommands(program: Command): void {
  const dataset = program.command('dataset').description('manage datasets on a Tally server');
  withClientOptions(dataset.command('upload <file>').description('create a dataset from a JSONL file and upload it'))
    .option('--id <datasetId>', 'dataset id (default: from the file name)')
    .option('--display-name <name>', 'display name')
    .action(clientAction(async (context, file) => {
      const id = (context.options['id'] as string | undefined) ?? idFromName(basename(file!));
      const ready = await uploadDataset(context.api, context.output, file!, id, context.options['displayName'] as string | undefined);
      printDataset(context, ready);
    }));
  withClientOptions(dataset.command('list').description('list datasets')).action(clientAction(async (context) => {
    const datasets = await listAll(context, await context.api.path('datasets'), 'datasets');
    if (context.json) return printJson(context.output, { datasets });
    context.output.out.write(table(['ID', 'STATE', 'ROWS', 'FORMAT', 'CREATED'], datasets.map((d) => [idOf(d), d['state'] as string, d['exampleCount'] as string, d['format'] as string, d['createTime'] as string])));
  }));
  withClientOptions(dataset.command('get <datasetId>').description('show a dataset')).action(clientAction(async (context, id) => {
    printDataset(context, await context.api.call('GET', await context.api.path(`datasets/${id}`)));
  }));
  withClientOptions(dataset.command('download <datasetId>').description('download the rows as JSONL'))
    .option('-o, --output <file>', 'write to this file (default: stdout)')
    .action(clientAction(async (context, id) => downloadDataset(context, id!)));
  withClientOptions(dataset.command('delete <datasetId>').description('delete a dataset and its rows')).action(clientAction(async (context, id) => {
    const answer = await context.api.call('DELETE', await context.api.path(`datasets/${id}`));
    if (context.json) return printJson(context.output, answer);
    context.output.out.write(`deleted dataset ${id}\n`);
  }));
}

/** Create, signed-URL upload, validate; answers the dataset as it stands after (READY). */
export async function uploadDataset(api: ApiClient, output: Output, file: string, id: string, displayName?: string): Promise<Json> {
  const path = await api.path(`datasets/${id}`);
  await api.call('POST', await api.path('datasets'), { datasetId: id, dataset: displayName ? { displayName } : {} });
  await uploadThroughSignedUrl(api, output, path, file, basename(file));
  return api.call('GET', path);
}

function printDataset(context: ClientContext, dataset: Json): void {
  if (context.json) return printJson(context.output, dataset);
  const status = dataset['status'] as { message?: string } | undefined;
  context.output.out.write(keyValues([
    ['id', idOf(dataset)],
    ['name', dataset['name']],
    ['state', dataset['state']],
    ['rows', dataset['exampleCount']],
    ['format', dataset['format']],
    ['status', status?.message],
    ['created', dataset['createTime']],
  ]));
}

async function downloadDataset(context: ClientContext, id: string): Promise<void> {
  const endpoint = await context.api.call('GET', await context.api.path(`datasets/${id}:getDownloadEndpoint`));
  const url = Object.values((endpoint['filenameToSignedUrls'] as Record<string, string> | undefined) ?? {})[0];
  if (!url) throw new Error(`dataset ${id}: the server returned no download URL`);
  const response = await context.api.fetchSigned(url);
  const target = context.options['output'] as string | undefined;
  const body = Readable.fromWeb(response.body! as import('node:stream/web').ReadableStream<Uint8Array>);
  if (target) {
    await pipeline(body, createWriteStream(target));
    context.output.err.write(`wrote ${target}\n`);
  } else {
    await pipeline(body, context.output.out, { end: false });
  }
}
