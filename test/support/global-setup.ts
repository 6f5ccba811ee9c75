// vitest globalSetup: provides `postgresUrl` (a server URL whose user may CREATE DATABASE) to every
// test file. TALLY_TEST_DATABASE_URL selects an existing server; otherwise a throwaway PostgreSQL
// is started here and stopped (with every database created on it) at teardown. PostgreSQL is
// mandatory: when it cannot be started the whole run fails.
import type { TestProject } from 'vitest/node';
import { startThrowawayPostgres, type ThrowawayPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

let server: ThrowawayPostgres | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const configured = process.env['TALLY_TEST_DATABASE_URL'];
  let url: string;
  if (configured !== undefined && configured !== '') {
    url = configured;
  } else {
    try {
      server = await startThrowawayPostgres();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(
        `Could not start a throwaway PostgreSQL for the tests (the PostgreSQL suite is mandatory).\n${message}\n` +
          'Run scripts/ensure-system, or set TALLY_TEST_DATABASE_URL to a server where the user may CREATE DATABASE.',
      );
    }
    url = server.url;
  }
  project.provide('postgresUrl', url);

  return async () => {
    if (server !== undefined) {
      await server.stop();
      server = undefined;
    } else {
      // An external server: drop the databases the test files created there.
      const { dropAllTestDatabases } = await import('./databases.js');
      await dropAllTestDatabases(url);
    }
  };
}
