import type { Command } from 'commander';
import { startServer } from '../server.js';
import { configFrom, withStoreOptions } from './options.js';

export function registerServeCommand(program: Command): void {
  withStoreOptions(
    program
      .command('serve')
      .description('start the Tally server')
      .option('--host <host>', 'interface to listen on [env TALLY_HOST, default 127.0.0.1]')
      .option('--port <port>', 'port to listen on [env TALLY_PORT, default 8000]')
      .option('--tls-cert <file>', 'PEM certificate (chain): serve HTTPS [env TALLY_TLS_CERT]')
      .option('--tls-key <file>', 'PEM private key of --tls-cert [env TALLY_TLS_KEY]')
      .option('--insecure-local-sandbox', 'run evaluator code WITHOUT isolation (no bubblewrap) [env TALLY_SANDBOX=insecure-local]'),
  ).action(async (options: Record<string, unknown>) => {
    const config = configFrom(options);
    const server = await startServer(config, { log: (line) => process.stderr.write(`${line}\n`) });
    const out = process.stdout;
    out.write(`Tally is listening on ${server.url}\n`);
    out.write(`  database: ${server.store.dialect}${config.database ? '' : ` (${config.dataDir}/tally.db)`}\n`);
    out.write(`  account:  ${config.accountId}\n`);
    if (server.bootstrapKey) {
      out.write(`  API key:  ${server.bootstrapKey.key}   (admin; shown once, stored hashed)\n`);
    } else {
      out.write('  API key:  the one printed on first start (or set TALLY_API_KEY)\n');
    }
    out.write(`  web UI:   ${server.url}/  (log in with the API key)\n`);
    out.write(`  try:      curl -H "Authorization: Bearer <key>" ${server.url}/v1/accounts/${config.accountId}/datasets\n`);
    const stop = (): void => {
      void server.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
