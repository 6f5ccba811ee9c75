import type { Command } from 'commander';
import { ApiClient, type Json } from './api-client.js';
import { resolveClientSettings } from './client-config.js';
import { outputFor, type Output } from './terminal.js';

export interface ClientContext {
  api: ApiClient;
  output: Output;
  options: Record<string, unknown>;
  /** --json: print the API's JSON instead of tables. */
  json: boolean;
  command: Command;
}

/**
 * Wraps a command action: commander passes (args..., options, command); the handler gets the
 * positional arguments and a context with the API client built from flags, env and profile.
 */
export function clientAction(run: (context: ClientContext, ...args: string[]) => Promise<void>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const options = command.opts();
    const positional = args.slice(0, -2) as string[];
    const context: ClientContext = { api: new ApiClient(resolveClientSettings(options)), output: outputFor(options), options, json: Boolean(options['json']), command };
    await run(context, ...positional);
  };
}

/** A usage error: commander prints it and main() turns it into exit code 2. */
export function usageError(command: Command, message: string): never {
  command.error(`error: ${message}`, { exitCode: 2, code: 'tally.usage' });
}

export function printJson(output: Output, value: unknown): void {
  output.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The last segment of a resource name (`accounts/a/datasets/d` -> `d`). */
export function idOf(resource: Json): string {
  return String(resource['name'] ?? '').split('/').pop() ?? '';
}

/** Every page of a list, following nextPageToken. */
export async function listAll(context: ClientContext, path: string, field: string, query: Record<string, string | number | undefined> = {}): Promise<Json[]> {
  const items: Json[] = [];
  let pageToken: string | undefined;
  do {
    const page = await context.api.call('GET', path, undefined, { ...query, pageSize: 200, pageToken });
    items.push(...((page[field] as Json[] | undefined) ?? []));
    pageToken = (page['nextPageToken'] as string | undefined) || undefined;
  } while (pageToken);
  return items;
}

/** Turns a file name into a valid resource id (`My Data.v2.jsonl` -> `my-data-v2`). */
export function idFromName(name: string): string {
  const base = name.replace(/\.(jsonl|json|tar\.gz|tgz)$/i, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const lettered = /^[a-z]/.test(base) ? base : `d-${base}`;
  return lettered.slice(0, 63).replace(/-+$/, '') || 'data';
}
