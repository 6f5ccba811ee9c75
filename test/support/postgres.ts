// A throwaway PostgreSQL server for the tests: a fresh cluster in a temporary directory, on a free
// port of 127.0.0.1, trust authentication for user `test`, fsync off. See shared environment notes.
import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ThrowawayPostgres {
  url: string;
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<version>/bin that holds initdb and pg_ctl. */
export async function findPostgresBinDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = await readdir(root);
  } catch {
    versions = [];
  }
  const usable = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    .map((v) => join(root, v, 'bin'))
    .filter((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  const dir = usable[0];
  if (dir === undefined) {
    throw new Error(
      `No PostgreSQL server binaries under ${root}/*/bin (initdb, pg_ctl). Run scripts/ensure-system ` +
        '(Debian package "postgresql").',
    );
  }
  return dir;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the bound port'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

interface PostgresUser {
  uid: number;
  gid: number;
}

async function postgresUser(): Promise<PostgresUser> {
  const { stdout: uid } = await run('id', ['-u', 'postgres']).catch(() => {
    throw new Error('Running as root, but there is no "postgres" user (install the Debian package "postgresql").');
  });
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

async function logTail(logFile: string): Promise<string> {
  try {
    const text = await readFile(logFile, 'utf8');
    return text.split('\n').slice(-20).join('\n');
  } catch {
    return '(no server log)';
  }
}

/**
 * Starts a fresh PostgreSQL cluster. As root, initdb and pg_ctl run as the `postgres` user (initdb
 * refuses root); as any other user they run directly. The returned stop() shuts the server down
 * and deletes its directory.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = await findPostgresBinDir();
  const isRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'tally-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'pg.log');

  // The environment handed to the server: no inherited PG* variables that could redirect it.
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };

  const exec = async (argv: string[]): Promise<void> => {
    if (isRoot) {
      await run('su', ['postgres', '-s', '/bin/sh', '-c', argv.map(shellQuote).join(' ')], { env, cwd: dir });
    } else {
      const [file, ...args] = argv;
      await run(file as string, args, { env, cwd: dir });
    }
  };

  if (isRoot) {
    const { uid, gid } = await postgresUser();
    await chown(dir, uid, gid);
    await chmod(dir, 0o700);
  }

  let started = false;
  try {
    await exec([
      join(bin, 'initdb'),
      '-D', dataDir,
      '-U', 'test',
      '--auth=trust',
      '-E', 'UTF8',
      '--no-locale',
      '--no-sync',
    ]);

    // Another process may take the port between the probe and the server's bind: retry a few times.
    let lastError: unknown;
    for (let attempt = 0; attempt < 5 && !started; attempt++) {
      const port = await freePort();
      const options = [
        `-p ${port}`,
        `-k ${dir}`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=200',
      ].join(' ');
      try {
        await exec([join(bin, 'pg_ctl'), '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options, 'start']);
        started = true;
        const url = `postgresql://test@127.0.0.1:${port}/postgres`;
        let stopped = false;
        return {
          url,
          async stop(): Promise<void> {
            if (stopped) return;
            stopped = true;
            try {
              await exec([join(bin, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', 'stop']);
            } finally {
              await rm(dir, { recursive: true, force: true });
            }
          },
        };
      } catch (err) {
        lastError = err;
        // If the postmaster came up after all (a slow start), do not leave it behind.
        await exec([join(bin, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      }
    }
    throw new Error(
      `pg_ctl could not start PostgreSQL: ${String(lastError)}\n--- ${logFile} ---\n${await logTail(logFile)}`,
    );
  } catch (err) {
    if (!started) await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
