import type { Command } from 'commander';
import { ROLES, type Role } from '../domain/types.js';
import { createAccountService, type AccountService } from '../services/accounts.js';
import { openStore } from '../store/index.js';
import { databaseUrlOf } from '../config/index.js';
import { configFrom, withStoreOptions } from './options.js';

/** Operator commands: they open the store directly, so they work before any key exists. */
export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('manage accounts (operator)');
  withStoreOptions(account.command('create <accountId>').description('create an account and print its admin API key'))
    .option('--display-name <name>', 'display name')
    .option('--email <address>', "the account's email (the SDK's Account carries one)")
    .action(async (accountId: string, options: Record<string, unknown>) => {
      await withAccounts(options, async (accounts) => {
        const created = await accounts.createAccount({ accountId, displayName: options['displayName'] as string | undefined, email: options['email'] as string | undefined });
        process.stdout.write(`account ${accountId} created\nadmin API key: ${created.key}\n`);
      });
    });

  const key = program.command('key').description('manage API keys (operator)');
  withStoreOptions(key.command('create <accountId>').description('create an API key for an account and print it'))
    .option('--role <role>', `role: ${ROLES.join(' or ')}`, 'user')
    .option('--id <keyId>', 'key id (default: generated)')
    .action(async (accountId: string, options: Record<string, unknown>) => {
      const role = options['role'] as string;
      if (!ROLES.includes(role as Role)) throw new Error(`--role: "${role}" is not one of ${ROLES.join(', ')}`);
      await withAccounts(options, async (accounts) => {
        const created = await accounts.createKey(accountId, { role: role as Role, keyId: options['id'] as string | undefined });
        process.stdout.write(`API key ${created.record.id} (${role}) for ${accountId}: ${created.key}\n`);
      });
    });
}

async function withAccounts(options: Record<string, unknown>, work: (accounts: AccountService) => Promise<void>): Promise<void> {
  const store = await openStore({ url: databaseUrlOf(configFrom(options)) });
  try {
    await work(createAccountService(store));
  } finally {
    await store.close();
  }
}
