export interface UidAllocator {
  acquire(): number;
  release(uid: number): void;
}

/** Hands out distinct uids round-robin from a range; a uid is reused only after release. */
export function createUidAllocator(range: { first: number; count: number }): UidAllocator {
  if (!Number.isSafeInteger(range.first) || range.first <= 0 || range.count < 1) {
    throw new RangeError('sandbox uid range must start above 0 and hold at least one uid');
  }
  const inUse = new Set<number>();
  let cursor = 0;
  return {
    acquire(): number {
      // With a single uid (e.g. nobody) everything shares it, by the caller's choice.
      if (range.count === 1) return range.first;
      for (let tried = 0; tried < range.count; tried += 1) {
        const uid = range.first + ((cursor + tried) % range.count);
        if (!inUse.has(uid)) {
          cursor = (cursor + tried + 1) % range.count;
          inUse.add(uid);
          return uid;
        }
      }
      throw new Error(`all ${range.count} sandbox uids are in use`);
    },
    release(uid: number): void {
      inUse.delete(uid);
    },
  };
}
