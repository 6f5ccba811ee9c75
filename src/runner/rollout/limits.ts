/** How many rollouts run at once, and how fast they may start. */

/**
 * A counting semaphore whose waiters are all turned away at once when it is closed (the job
 * stopped): one listener for the lot, not one per waiter (a chunk queues a thousand requests,
 * and removing a listener from a signal with thousands costs a scan of them all).
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: { grant: () => void; refuse: (reason: unknown) => void }[] = [];
  private closedWith: { reason: unknown } | undefined;

  constructor(private readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.closedWith) throw this.closedWith.reason;
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ grant: () => { this.active++; resolve(); }, refuse: reject });
    });
  }

  release(): void {
    this.active--;
    this.waiters.shift()?.grant();
  }

  /** Refuses every waiter and every later acquire with `reason`. */
  close(reason: unknown): void {
    this.closedWith = { reason };
    for (const waiter of this.waiters.splice(0)) waiter.refuse(reason);
  }
}

/**
 * Requests per second to one endpoint, as a token bucket of one second's worth: an operator's
 * cap (config `rolloutRateLimits`) for a provider that bills or throttles by request rate.
 */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  /** Resolves when a request may start; requests start in the order they asked. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.next(signal));
    this.queue = turn.catch(() => {});
    return turn;
  }

  private async next(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = Date.now();
      this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await sleep(((1 - this.tokens) / this.perSecond) * 1000, signal);
    }
  }
}

/**
 * Operator rate limits by endpoint: `origin=perSecond` pairs, comma-separated, an origin being
 * `scheme://host[:port]` as in a base URL (`http://127.0.0.1:8080=20,https://api.example.com=5`).
 */
export function parseRateLimits(text: string): Map<string, number> {
  const limits = new Map<string, number>();
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const at = entry.lastIndexOf('=');
    const rate = Number(entry.slice(at + 1));
    let origin = '';
    try {
      origin = new URL(entry.slice(0, at)).origin;
    } catch {
      // reported below
    }
    if (at <= 0 || !origin || origin === 'null' || !(rate > 0)) throw new Error(`rolloutRateLimits: "${entry}" is not origin=requestsPerSecond (e.g. https://api.example.com=5)`);
    limits.set(origin, rate);
  }
  return limits;
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const done = () => {
      signal?.removeEventListener('abort', abort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
