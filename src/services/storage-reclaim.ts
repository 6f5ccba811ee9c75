import type { SpaceReport, Store } from '../store/index.js';

export interface ReclaimOptions {
  /**
   * An unused row set younger than this may be an upload or a job being created by another
   * server: the periodic sweep (and the start sweep on PostgreSQL) leaves it. @default 6 hours
   */
  orphanGraceMs?: number;
  /** How often the periodic pass runs. @default 10 minutes */
  everyMs?: number;
  log?: (line: string) => void;
}

export interface ReclaimReport {
  orphanRowSets: number;
  expiredUrls: number;
  space: SpaceReport | undefined;
}

export interface StorageReclaimer {
  /** The pass at start, before anything else uses the store. */
  atStart(startTime: string): Promise<ReclaimReport>;
  /** One periodic pass. */
  sweep(): Promise<ReclaimReport>;
  /** Runs `sweep` every `everyMs` until `stop`. */
  start(): void;
  stop(): Promise<void>;
}

const MIB = 1024 * 1024;

/**
 * Storage reclaim: what a killed upload left (orphan row sets), expired signed URLs with what was
 * PUT to them and never validated, and the file space of deleted rows (SQLite). On SQLite one
 * server owns the file, so at start every unused row set from before this start is an orphan; on
 * PostgreSQL other servers may be mid-upload, so only those older than the grace period are.
 */
export function createStorageReclaimer(store: Store, { orphanGraceMs = 6 * 3600_000, everyMs = 10 * 60_000, log = () => {} }: ReclaimOptions = {}): StorageReclaimer {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const graceCutoff = () => new Date(Date.now() - orphanGraceMs).toISOString();

  async function pass(createdBefore: string, full: boolean): Promise<ReclaimReport> {
    const expiredUrls = await store.signedUrls.deleteExpired(new Date().toISOString());
    const orphanRowSets = await store.rows.sweepOrphans(createdBefore);
    const space = await store.reclaimSpace({ full });
    if (orphanRowSets > 0 || expiredUrls > 0 || (space && space.fileBytesAfter < space.fileBytesBefore)) log(describe({ orphanRowSets, expiredUrls, space }));
    return { orphanRowSets, expiredUrls, space };
  }

  const sweep = () => pass(graceCutoff(), false);
  return {
    atStart: (startTime) => pass(store.dialect === 'sqlite' ? startTime : graceCutoff(), true),
    sweep,
    start() {
      timer = setInterval(() => {
        running = sweep().catch((error: unknown) => log(`storage reclaim failed: ${String(error)}`));
      }, everyMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

function describe({ orphanRowSets, expiredUrls, space }: ReclaimReport): string {
  const parts = [`dropped ${orphanRowSets} orphan row set(s) and ${expiredUrls} expired signed URL(s)`];
  if (space) parts.push(`database file ${(space.fileBytesBefore / MIB).toFixed(1)} MiB -> ${(space.fileBytesAfter / MIB).toFixed(1)} MiB`);
  return `storage reclaim: ${parts.join('; ')}`;
}
