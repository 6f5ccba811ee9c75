import type { Command } from 'commander';
import { verifyApiKey } from './api-client.js';
import { defaultProfilePath, writeProfile } from './client-config.js';

/** `tally login`: checks the key against the server and saves a profile for later commands. */
export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description('check an API key and save it, with the server URL and account, to a profile (0600)')
    .requiredOption('--base-url <url>', 'server URL')
    .requiredOption('--api-key <key>', 'API key')
    .option('--account <id>', 'account id (default: the key\'s account, asked from the server)')
    .option('--profile <file>', 'profile file [default ~/.tally/profile.json]')
    .action(async (options: Record<string, string | undefined>) => {
      const baseUrl = options['baseUrl']!.replace(/\/+$/, '');
      const apiKey = options['apiKey']!;
      // Always verify, even with --account given: a typo in the key should fail now, not later.
      const discovered = await verifyApiKey(baseUrl, apiKey);
      const accountId = options['account'] ?? discovered;
      const path = options['profile'] ?? defaultProfilePath();
      writeProfile(path, { baseUrl, apiKey, accountId });
      process.stdout.write(`logged in to ${baseUrl} as account ${accountId}; profile written to ${path}\n`);
    });
}
