import { afterEach, describe, expect, it } from 'vitest';
import { createSandboxLauncher, detectBubblewrap } from '../sandbox/index.js';
import { pidsOfUidRange, privateUidRange } from '../sandbox/test-support.js';
import { RawJsonRow } from './protocol.js';
import { createSandboxPool } from './sandbox-pool.js';
import type { RowOutcome, ScoreBatchOptions } from './sandbox-process.js';
import { fixtureSpec, legacyManifest } from './test-support.js';

const UIDS = privateUidRange(100);
const launcher = createSandboxLauncher({ mode: 'bubblewrap', uids: UIDS });
const available = await detectBubblewrap({ uids: UIDS });

afterEach(async () => {
  for (let i = 0; i < 20 && pidsOfUidRange(UIDS.first, UIDS.count).length > 0; i += 1) await new Promise((r) => setTimeout(r, 100));
  expect(pidsOfUidRange(UIDS.first, UIDS.count)).toEqual([]);
});

interface Run {
  outcomes: RowOutcome[];
  logs: string;
  started: number;
}

async function score(file: string, rows: object[], options: Partial<ScoreBatchOptions>): Promise<Run> {
  let logs = '';
  const pool = createSandboxPool({
    launcher,
    spec: fixtureSpec('concurrent-rows'),
    manifest: legacyManifest('concurrent-rows', file),
    loadTimeoutMs: 10_000,
    onOutput: (_stream, text) => (logs += text),
  });
  try {
    const outcomes = await pool.scoreBatch(rows, { perRowTimeoutMs: 10_000, ...options });
    return { outcomes, logs, started: pool.stats.started };
  } finally {
    await pool.close();
  }
}

const rowsOf = (n: number, extra: (i: number) => object = () => ({})) => Array.from({ length: n }, (_, i) => ({ x: i, ...extra(i) }));
const peakOf = (outcomes: RowOutcome[]) => Math.max(...outcomes.map((o) => (o.ok ? o.result.metrics['in_flight_max']!.score : 0)));
const kindOf = (o: RowOutcome | undefined) => (o && !o.ok && !o.retry ? o.error.kind : o?.ok ? 'ok' : 'retry');

/** Every row but `bad` scored, in order (row i scores i / 1000). */
function expectScoredInOrder(outcomes: RowOutcome[], total: number, bad: number[] = []): void {
  expect(outcomes).toHaveLength(total);
  outcomes.forEach((o, i) => {
    if (bad.includes(i)) return;
    expect(o.ok, `row ${i}: ${JSON.stringify(o)}`).toBe(true);
    if (o.ok) expect(o.result.score).toBe(i / 1000);
  });
}

describe.skipIf(!available)('concurrent rows inside one sandbox process', () => {
  it('an async evaluator has many rows in flight at once, never more than the cap, results in row order', async () => {
    const wide = await score('async_main.py', rowsOf(60, () => ({ sleep: 0.2 })), { concurrency: 16 });
    expectScoredInOrder(wide.outcomes, 60);
    expect(peakOf(wide.outcomes)).toBeGreaterThan(1);
    expect(peakOf(wide.outcomes)).toBeLessThanOrEqual(16);
    const narrow = await score('async_main.py', rowsOf(30, (i) => ({ sleep: (i % 3) * 0.05 })), { concurrency: 3 });
    expectScoredInOrder(narrow.outcomes, 30);
    expect(peakOf(narrow.outcomes)).toBeLessThanOrEqual(3);
  });

  it('without concurrency an async evaluator runs one row at a time', async () => {
    const run = await score('async_main.py', rowsOf(6, () => ({ sleep: 0.01 })), { concurrency: 1 });
    expectScoredInOrder(run.outcomes, 6);
    expect(peakOf(run.outcomes)).toBe(1);
  });

  it('a row that raises or hangs in a concurrent batch errors alone; its neighbours go on in the same process', async () => {
    const rows = rowsOf(20, (i) => (i === 3 ? { raise: true } : i === 11 ? { hang: true } : {}));
    const run = await score('async_main.py', rows, { concurrency: 8, perRowTimeoutMs: 1_500 });
    expectScoredInOrder(run.outcomes, 20, [3, 11]);
    expect(kindOf(run.outcomes[3])).toBe('exception');
    expect(kindOf(run.outcomes[11])).toBe('timeout');
    expect(run.outcomes[11]!.ok === false && !run.outcomes[11]!.retry && run.outcomes[11]!.error.message).toMatch(/did not finish within 1.5 s/);
    expect(run.started).toBe(1);
  });

  it('a row that kills the process in a concurrent batch is pinned on it by a careful re-run; the others are scored', async () => {
    const rows = rowsOf(12, (i) => (i === 5 ? { crash: true } : { sleep: 0.1 }));
    const run = await score('async_main.py', rows, { concurrency: 8 });
    expectScoredInOrder(run.outcomes, 12, [5]);
    expect(kindOf(run.outcomes[5])).toBe('crash');
  });

  it("each row's prints are written whole and tagged with the row", async () => {
    const run = await score('async_main.py', rowsOf(6, () => ({ print: true })), { concurrency: 6 });
    expectScoredInOrder(run.outcomes, 6);
    for (let i = 0; i < 6; i++) expect(run.logs).toContain(`row ${i}: first half of ${i} and the rest of ${i}\n`);
  });

  it("tags a row's prints with its index in the job when the runner names them", async () => {
    const labels = [40, 41, 42, 43, 44, 45];
    const run = await score('async_main.py', rowsOf(6, () => ({ print: true })), { concurrency: 6, labels });
    for (let i = 0; i < 6; i++) expect(run.logs).toContain(`row ${labels[i]}: first half of ${i} and the rest of ${i}\n`);
    const threaded = await score('sync_main.py', rowsOf(4, () => ({ print: true })), { threads: 4, labels: [7, 8, 9, 10] });
    for (let i = 0; i < 4; i++) expect(threaded.logs).toContain(`row ${7 + i}: row says ${i}\n`);
  });

  it('a sync evaluator runs rows one at a time, or in `threads` threads; a hung row times out alone', async () => {
    const plain = await score('sync_main.py', rowsOf(5, () => ({ sleep: 0.01 })), { concurrency: 96 });
    expectScoredInOrder(plain.outcomes, 5);
    expect(peakOf(plain.outcomes)).toBe(1);
    const rows = rowsOf(40, (i) => (i === 7 ? { raise: true } : i === 20 ? { hang: true } : { sleep: 0.1 }));
    const threaded = await score('sync_main.py', rows, { threads: 8, perRowTimeoutMs: 1_500 });
    expectScoredInOrder(threaded.outcomes, 40, [7, 20]);
    expect(kindOf(threaded.outcomes[7])).toBe('exception');
    expect(kindOf(threaded.outcomes[20])).toBe('timeout');
    expect(peakOf(threaded.outcomes)).toBeGreaterThan(1);
    expect(peakOf(threaded.outcomes)).toBeLessThanOrEqual(8);
    expect(threaded.started).toBe(1);
  });

  describe('a row that is valid JSON but that Python cannot decode costs that row only', () => {
    const hugeInt = `{"x": ${'9'.repeat(5000)}}`;
    const deep = `{"x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const batch = (badAt: number[], text: string) =>
      Array.from({ length: 10 }, (_, i) => new RawJsonRow(badAt.includes(i) ? text : JSON.stringify({ x: i, sleep: 0.01 })));
    for (const [name, text] of [['an integer of 5,000 digits', hugeInt], ['nesting 100,000 deep', deep]] as const) {
      const ways: [string, Partial<ScoreBatchOptions>][] = [['sync_main.py', {}], ['sync_main.py', { threads: 4 }], ['async_main.py', { concurrency: 4 }]];
      for (const [file, options] of ways) {
        it(`${name}, first, middle and last of a batch (${file} ${JSON.stringify(options)})`, async () => {
          const run = await score(file, batch([0, 5, 9], text), options);
          expectScoredInOrder(run.outcomes, 10, [0, 5, 9]);
          for (const i of [0, 5, 9]) {
            expect(kindOf(run.outcomes[i])).toBe('exception');
            expect(run.outcomes[i]!.ok === false && !run.outcomes[i]!.retry && run.outcomes[i]!.error.message).toMatch(/could not be decoded/);
          }
          expect(run.started).toBe(1);
        });
      }
    }
  });
});
