/**
 * Lets an idle worker sleep until there may be work: a job created or made runnable in this
 * process wakes it at once, instead of at its next poll (other processes still rely on polling).
 */
export interface Wakeup {
  notify(): void;
  /** Resolves after `ms`, or sooner when notified. */
  wait(ms: number): Promise<void>;
}

export function createWakeup(): Wakeup {
  let waiters: (() => void)[] = [];
  return {
    notify() {
      for (const wake of waiters.splice(0)) wake();
    },
    wait(ms) {
      return new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        waiters.push(done);
      });
    },
  };
}
