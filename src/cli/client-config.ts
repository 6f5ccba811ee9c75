import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';

/** Where a client command sends its requests. */
export interface ClientSettings {
  baseUrl: string;
  apiKey: string;
  /** Empty when nothing names it: the client then asks the server (`GET /verifyApiKey`). */
  accountId: string;
}

interface Profile {
  baseUrl?: string;
  apiKey?: string;
  accountId?: string;
}

const DEFAULT_BASE_URL = 'http://127.0.0.1:8000';

/** The flags every client command takes. */
export function withClientOptions(command: Command): Command {
  return command
    .option('--base-url <url>', `server URL [env TALLY_BASE_URL, FIREWORKS_API_BASE; default ${DEFAULT_BASE_URL}]`)
    .option('--api-key <key>', 'API key [env TALLY_API_KEY, FIREWORKS_API_KEY]')
    .option('--account <id>', 'account id [env TALLY_ACCOUNT_ID, FIREWORKS_ACCOUNT_ID; default: the key\'s account]')
    .option('--profile <file>', 'profile file written by `tally login` [default ~/.tally/profile.json]')
    .option('--json', 'print the raw API JSON')
    .option('--progress', 'draw progress even when stderr is not a terminal');
}

export function defaultProfilePath(): string {
  return join(homedir(), '.tally', 'profile.json');
}

/** Flags > environment > profile; the environment is read here and nowhere deeper. */
export function resolveClientSettings(options: Record<string, unknown>, env: Record<string, string | undefined> = process.env): ClientSettings {
  const profile = readProfile((options['profile'] as string | undefined) ?? defaultProfilePath());
  const pick = (...values: (string | undefined)[]) => values.find((v) => v !== undefined && v !== '');
  const baseUrl = pick(options['baseUrl'] as string | undefined, env['TALLY_BASE_URL'], env['FIREWORKS_API_BASE'], profile.baseUrl) ?? DEFAULT_BASE_URL;
  const apiKey = pick(options['apiKey'] as string | undefined, env['TALLY_API_KEY'], env['FIREWORKS_API_KEY'], profile.apiKey);
  if (!apiKey) throw new Error('no API key: pass --api-key, set TALLY_API_KEY, or run `tally login`');
  const accountId = pick(options['account'] as string | undefined, env['TALLY_ACCOUNT_ID'], env['FIREWORKS_ACCOUNT_ID'], profile.accountId) ?? '';
  return { baseUrl: baseUrl.replace(/\/+$/, ''), apiKey, accountId };
}

function readProfile(path: string): Profile {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Profile;
  } catch (error) {
    throw new Error(`profile ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The profile holds a key: only its owner may read it. */
export function writeProfile(path: string, settings: ClientSettings): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
