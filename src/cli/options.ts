import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/index.js';

/** The flags shared by every command that opens the store. */
export function withStoreOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'data directory (SQLite file, builds) [env TALLY_DATA_DIR, default ./.tally]')
    .option('--database <url>', 'postgres://... or sqlite:/path [env TALLY_DATABASE_URL]')
    .option('--config <file>', 'JSON config file [env TALLY_CONFIG]');
}

export function configFrom(options: Record<string, unknown>): Config {
  return loadConfig({
    env: process.env,
    configFile: options['config'] as string | undefined,
    flags: {
      host: options['host'],
      port: options['port'],
      dataDir: options['dataDir'],
      database: options['database'],
      accountId: options['accountId'],
      sandbox: options['insecureLocalSandbox'] ? 'insecure-local' : undefined,
      workerSlots: options['workerSlots'],
      tlsCert: options['tlsCert'],
      tlsKey: options['tlsKey'],
    },
  });
}
