import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Store } from '../store/index.js';

/**
 * A worker's lease owner name: `<host>.<space>:<pid>:<random>`. `<space>` tells apart pid spaces
 * that share a host name (this boot's id and this process's pid namespace, hashed), so a worker
 * can tell for certain that an owner ran in its own pid space, and then whether it still runs.
 */
export function workerIdentity(): { id: string; prefix: string } {
  const prefix = `${hostname()}.${pidSpace()}:`;
  return { id: `${prefix}${process.pid}:${randomBytes(3).toString('hex')}`, prefix };
}

/**
 * Owners of this pid space whose process is gone: a server killed with kill -9 and started again
 * finds its previous identity's leases here instead of waiting for them to expire. Owners of
 * other hosts or pid spaces, and of live processes (another worker beside this one), are never
 * taken: they expire as before. A pid reused by an unrelated process only keeps a lease to its
 * expiry.
 */
export function deadOwners(owners: readonly string[], { prefix, self, isAlive }: { prefix: string; self: string; isAlive: (pid: number) => boolean }): string[] {
  return owners.filter((owner) => {
    if (owner === self || !owner.startsWith(prefix)) return false;
    const pid = Number(owner.slice(prefix.length).split(':')[0]);
    return Number.isSafeInteger(pid) && pid > 0 && !isAlive(pid);
  });
}

/** Releases the leases of this pid space's dead workers; how many chunks went back. */
export async function releaseDeadLocalLeases(store: Store, identity: { id: string; prefix: string }, log: (line: string) => void): Promise<number> {
  const owners = await store.jobs.leaseOwners(identity.prefix);
  let released = 0;
  for (const owner of deadOwners(owners, { prefix: identity.prefix, self: identity.id, isAlive: processIsAlive })) {
    released += await store.jobs.releaseLeasesOf(owner);
  }
  if (released > 0) log(`worker ${identity.id}: took back ${released} chunk lease(s) of dead workers of this host at start`);
  return released;
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function pidSpace(): string {
  const hash = createHash('sha256');
  hash.update(readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()));
  hash.update(readOr(() => readlinkSync('/proc/self/ns/pid')));
  return hash.digest('hex').slice(0, 8);
}

/** Without /proc (not Linux) the space is a random one: no owner then looks local, as before. */
function readOr(read: () => string): string {
  try {
    return read();
  } catch {
    return randomBytes(8).toString('hex');
  }
}
