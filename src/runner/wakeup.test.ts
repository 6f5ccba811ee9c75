import { describe, expect, it } from 'vitest';
import { createWakeup } from './wakeup.js';

describe('wakeup', () => {
  it('wakes every waiter at once when notified, else after the wait', async () => {
    const wakeup = createWakeup();
    const started = Date.now();
    const waits = [wakeup.wait(5_000), wakeup.wait(5_000)];
    wakeup.notify();
    await Promise.all(waits);
    expect(Date.now() - started).toBeLessThan(1_000);
    const quiet = Date.now();
    await wakeup.wait(50);
    expect(Date.now() - quiet).toBeGreaterThanOrEqual(45);
  });
});
