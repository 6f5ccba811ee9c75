import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxLauncher, detectBubblewrap, type SandboxLimits } from '../sandbox/index.js';
import { pidsOfUidRange, privateUidRange } from '../sandbox/test-support.js';
import { RawJsonRow, type HarnessManifest } from './protocol.js';
import { SandboxStartError } from './sandbox-errors.js';
import { createSandboxPool } from './sandbox-pool.js';
import { startSandboxProcess, type RowOutcome, type SandboxProcess } from './sandbox-process.js';
import { FIXTURE_LIMITS, FIXTURES_DIR, fixtureSpec, legacyManifest } from './test-support.js';

// A uid range of its own, so the leak check sees only this file's boxes.
const UIDS = privateUidRange(100);
const launcher = createSandboxLauncher({ mode: 'bubblewrap', uids: UIDS });
const available = await detectBubblewrap({ uids: UIDS });
const ROWS = [{ x: 1 }, { x: 2 }, { x: 3, attack: true }, { x: 4 }, { x: 5 }];

afterEach(async () => {
  // Nothing may outlive a test: no process of the sandbox uids is left on the host.
  for (let i = 0; i < 20 && pidsOfUidRange(UIDS.first, UIDS.count).length > 0; i += 1) {
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(pidsOfUidRange(UIDS.first, UIDS.count)).toEqual([]);
});

interface AttackRun {
  outcomes: RowOutcome[];
  logs: string;
  started: number;
  discarded: number;
}

async function attack(
  name: string,
  { perRowTimeoutMs = 10_000, limits = FIXTURE_LIMITS, rows = ROWS as object[] }: { perRowTimeoutMs?: number; limits?: SandboxLimits; rows?: object[] } = {},
): Promise<AttackRun> {
  let logs = '';
  let discarded = 0;
  const pool = createSandboxPool({
    launcher,
    spec: fixtureSpec(name, { limits }),
    manifest: legacyManifest(name),
    loadTimeoutMs: 10_000,
    onOutput: (_stream, text) => (logs += text),
  });
  const proc = await pool.retain();
  pool.release(proc);
  const outcomes = await pool.scoreBatch(rows, { perRowTimeoutMs });
  discarded = proc.output.discardedBytes;
  const { started } = pool.stats;
  await pool.close();
  return { outcomes, logs, started, discarded };
}

function expectOthersScored(outcomes: RowOutcome[]): void {
  expect(outcomes).toHaveLength(5);
  for (const i of [0, 1, 3, 4]) {
    const outcome = outcomes[i];
    expect(outcome?.ok, JSON.stringify(outcome)).toBe(true);
    if (outcome?.ok) expect(outcome.result).toMatchObject({ score: (i + 1) / 10, reason: `x=${i + 1}`, is_score_valid: true });
  }
}

function errorOf(outcome: RowOutcome | undefined): { kind: string; message: string } {
  if (!outcome || outcome.ok || outcome.retry) throw new Error(`expected an error outcome, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

function reasonOf(outcome: RowOutcome | undefined): string {
  if (!outcome?.ok) throw new Error(`expected a result, got ${JSON.stringify(outcome)}`);
  return outcome.result.reason ?? '';
}

describe.skipIf(!available)('misbehaving evaluators under bubblewrap', () => {
  it('crash: os._exit on one row', async () => {
    const { outcomes } = await attack('crash');
    expectOthersScored(outcomes);
    expect(errorOf(outcomes[2])).toEqual({ kind: 'crash', message: 'evaluator process exited with code 3' });
  });

  it('hang: killed after the per-row timeout, the rows before it keep their results', async () => {
    const { outcomes } = await attack('hang', { perRowTimeoutMs: 1_000 });
    expectOthersScored(outcomes);
    expect(errorOf(outcomes[2])).toEqual({ kind: 'timeout', message: 'evaluator process was killed after 1 s without finishing this row' });
  });

  it('memory-bomb: MemoryError at the address-space limit', async () => {
    const { outcomes } = await attack('memory-bomb');
    expectOthersScored(outcomes);
    expect(errorOf(outcomes[2]).kind).toBe('memory');
    expect(errorOf(outcomes[2]).message).toMatch(/^ran out of memory \(MemoryError \/ address-space limit of 512 MiB\)/);
  });

  it('fork-bomb: stopped by the process limit of the unprivileged uid', async () => {
    const { outcomes } = await attack('fork-bomb');
    expectOthersScored(outcomes);
    expect(errorOf(outcomes[2])).toMatchObject({ kind: 'exception', message: expect.stringMatching(/BlockingIOError|Resource temporarily unavailable/) });
  });

  it('huge-output: 200 MB on stdout is drained and capped at 1 MiB, the row still scores', async () => {
    const { outcomes, logs, discarded } = await attack('huge-output', { perRowTimeoutMs: 30_000 });
    expectOthersScored(outcomes);
    expect(outcomes[2]).toMatchObject({ ok: true, result: { score: 0.3 } });
    expect(Buffer.byteLength(logs)).toBe(1024 * 1024);
    expect(discarded).toBe(200 * 1024 * 1024 - 1024 * 1024);
  });

  it('bad-json: garbage on fd 3 is a protocol error pinned on its row', async () => {
    const { outcomes, started } = await attack('bad-json');
    expectOthersScored(outcomes);
    expect(errorOf(outcomes[2]).kind).toBe('protocol');
    expect(errorOf(outcomes[2]).message).toContain('this is {not json');
    expect(started).toBeGreaterThanOrEqual(2);
  });

  it('segfault: reported with its signal', async () => {
    const { outcomes } = await attack('segfault');
    expectOthersScored(outcomes);
    expect(errorOf(outcomes[2])).toEqual({ kind: 'crash', message: 'evaluator process exited with signal SIGSEGV' });
  });

  it('nan-score: invalid_result saying what came back', async () => {
    const { outcomes, started } = await attack('nan-score');
    expectOthersScored(outcomes);
    expect(errorOf(outcomes[2])).toEqual({ kind: 'invalid_result', message: 'score must be finite, got nan' });
    expect(started).toBe(1);
  });

  it('not-json-result: invalid_result with type and repr', async () => {
    const { outcomes } = await attack('not-json-result');
    expectOthersScored(outcomes);
    expect(errorOf(outcomes[2])).toEqual({ kind: 'invalid_result', message: 'expected a number, a dict or an EvaluateResult, got set: {1, 2, 3}' });
  });

  it('escape-shadow: /etc/shadow is not in the box', async () => {
    const { outcomes } = await attack('escape-shadow');
    expectOthersScored(outcomes);
    expect(reasonOf(outcomes[2])).toBe('blocked: FileNotFoundError');
  });

  it('escape-env: the evaluator sees only the environment it was given', async () => {
    const { outcomes } = await attack('escape-env');
    expectOthersScored(outcomes);
    const keys = reasonOf(outcomes[2]).split(',');
    // bwrap sets PWD; everything else is exactly BOX_ENV.
    expect(keys).toEqual(['HOME', 'LANG', 'PATH', 'PWD']);
  });

  it('escape-write: /usr and the build are read-only', async () => {
    const { outcomes } = await attack('escape-write');
    expectOthersScored(outcomes);
    const build = join(FIXTURES_DIR, 'escape-write');
    expect(reasonOf(outcomes[2])).toBe(`/usr/pwned blocked Read-only file system; ${build}/pwned blocked Read-only file system`);
    expect(existsSync(join(build, 'pwned'))).toBe(false);
  });

  describe('escape-network', () => {
    let server: Server;
    let connections = 0;
    beforeAll(async () => {
      server = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => void server.close());

    it('no loopback, no internet, no DNS', async () => {
      const port = (server.address() as { port: number }).port;
      const rows = ROWS.map((row) => ({ ...row, port }));
      const { outcomes } = await attack('escape-network', { rows });
      expectOthersScored(outcomes);
      expect(reasonOf(outcomes[2])).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} blocked \\w+; 1\\.1\\.1\\.1:443 blocked \\w+; dns blocked \\w+$`));
      expect(connections).toBe(0);
    });
  });
});

describe.skipIf(!available)('sandbox process', () => {
  const start = (name: string, manifest: HarnessManifest, extra: { maxFrameBytes?: number } = {}): Promise<SandboxProcess> =>
    startSandboxProcess({ launcher, spec: fixtureSpec(name), manifest, loadTimeoutMs: 10_000, ...extra });

  it('legacy: scores rows with metrics and timings', async () => {
    const proc = await start('happy', legacyManifest('happy'));
    expect(proc.python).toMatch(/^3\.11\./);
    const outcomes = await proc.scoreBatch([{ x: 2 }, { x: 4 }], { perRowTimeoutMs: 5_000 });
    expect(outcomes).toMatchObject([
      { ok: true, result: { score: 0.2, reason: 'x=2', is_score_valid: true, metrics: { half: { score: 0.1, is_score_valid: true, reason: null } } } },
      { ok: true, result: { score: 0.4 } },
    ]);
    expect(proc.state).toBe('ready');
    await proc.close();
    expect(proc.state).toBe('dead');
  });

  it('criteria: each criterion is a metric, the score is their mean', async () => {
    const manifest: HarnessManifest = {
      contract: 'criteria',
      root: join(FIXTURES_DIR, 'criteria'),
      criteria: [
        { name: 'accuracy', file: 'accuracy.py', func: 'evaluate' },
        { name: 'length', file: 'length.py', func: 'evaluate' },
      ],
    };
    const proc = await start('criteria', manifest);
    const row = { messages: [{ role: 'assistant', content: 'Paris' }], ground_truth: 'Paris' };
    const [outcome] = await proc.scoreBatch([row], { perRowTimeoutMs: 5_000 });
    expect(outcome).toMatchObject({
      ok: true,
      result: { score: 0.75, reason: 'accuracy: exact match', metrics: { accuracy: { score: 1 }, length: { score: 0.5 } } },
    });
    await proc.close();
  });

  it('entry_point: calls the undecorated function, pointwise and as a group', async () => {
    const root = join(FIXTURES_DIR, 'entry-point');
    const rows = [
      { messages: [{ role: 'assistant', content: 'yes' }], ground_truth: 'yes' },
      { messages: [{ role: 'assistant', content: 'no!!!!' }], ground_truth: 'yes' },
    ];
    const pointwise = await start('entry-point', { contract: 'entry_point', root, path: 'test_x.py', func: 'test_fn', mode: 'pointwise' });
    expect(await pointwise.scoreBatch(rows, { perRowTimeoutMs: 5_000 })).toMatchObject([
      { ok: true, result: { score: 1, reason: 'yes' } },
      { ok: true, result: { score: 0, reason: 'no!!!!' } },
    ]);
    await pointwise.close();
    const group = await start('entry-point', { contract: 'entry_point', root, path: 'test_x.py', func: 'test_group', mode: 'groupwise' });
    expect(await group.scoreBatch(rows, { perRowTimeoutMs: 5_000, group: true })).toMatchObject([
      { ok: true, result: { score: 0.5 } },
      { ok: true, result: { score: 1 } },
    ]);
    // A row Python cannot decode is an error of its own; the group call scores the others.
    const undecodable = new RawJsonRow(`{"messages": [], "n": ${'9'.repeat(5000)}}`);
    expect(await group.scoreBatch([rows[0]!, undecodable, rows[1]!], { perRowTimeoutMs: 5_000, group: true })).toMatchObject([
      { ok: true, result: { score: 0.5 } },
      { ok: false, error: { kind: 'exception', message: expect.stringMatching(/could not be decoded/) } },
      { ok: true, result: { score: 1 } },
    ]);
    await group.close();
  });

  it.each([
    ['syntax.py', 'evaluate', /^SyntaxError in syntax\.py, line 2: /],
    ['no_kwargs.py', 'evaluate', /^evaluate in no_kwargs\.py must accept \*\*kwargs \(signature is \(messages, ground_truth=None\)\)$/],
    ['no_kwargs.py', 'score', /^function score not found in no_kwargs\.py$/],
    ['missing.py', 'evaluate', /^file missing\.py not found under /],
  ])('load error in %s::%s says what and where', async (file, func, pattern) => {
    const error: unknown = await start('load-errors', legacyManifest('load-errors', file, func)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SandboxStartError);
    expect((error as SandboxStartError).reason).toBe('load_error');
    expect((error as SandboxStartError).retryable).toBe(false);
    expect((error as Error).message).toMatch(pattern);
  });

  it('careful mode pins a sudden death on its row without a re-run', async () => {
    const proc = await start('crash', legacyManifest('crash'));
    const outcomes = await proc.scoreBatch(ROWS, { perRowTimeoutMs: 5_000, careful: true });
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.retry ? 'retry' : o.error.kind))).toEqual(['ok', 'ok', 'crash', 'retry', 'retry']);
    expect(proc.state).toBe('dead');
  });

  it('kills the process at the frame size cap', async () => {
    const proc = await start('happy', legacyManifest('happy'), { maxFrameBytes: 2_000 });
    try {
      const rows = Array.from({ length: 100 }, (_, x) => ({ x }));
      const outcomes = await proc.scoreBatch(rows, { perRowTimeoutMs: 5_000 });
      // 100 results in one frame pass the cap; which row is to blame is unknown: a suspect.
      expect(outcomes[0]).toMatchObject({ ok: false, retry: true, suspect: { kind: 'output_too_large' } });
      expect(outcomes.every((o) => !o.ok && o.retry)).toBe(true);
      expect(proc.state).toBe('dead');
    } finally {
      await proc.kill();
    }
  });

  it('an abort signal ends the batch: unscored rows are left for a retry', async () => {
    const proc = await start('hang', legacyManifest('hang'));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const outcomes = await proc.scoreBatch(ROWS, { perRowTimeoutMs: 60_000, signal: controller.signal });
    expect(outcomes.slice(0, 2).every((o) => o.ok)).toBe(true);
    expect(outcomes.slice(2).every((o) => !o.ok && o.retry)).toBe(true);
    expect(proc.state).toBe('dead');
  });

  it('passes evaluator prints to onOutput, never into the protocol', async () => {
    let logs = '';
    const proc = await startSandboxProcess({
      launcher,
      spec: fixtureSpec('huge-output'),
      manifest: legacyManifest('huge-output'),
      loadTimeoutMs: 10_000,
      maxOutputBytes: 4096,
      onOutput: (_s, text) => (logs += text),
    });
    const outcomes = await proc.scoreBatch([{ x: 1, attack: true }, { x: 2 }], { perRowTimeoutMs: 30_000 });
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(logs).toBe(('y'.repeat(1023) + '\n').repeat(4));
    expect(proc.output.discardedBytes).toBe(200 * 1024 * 1024 - 4096);
    await proc.close();
  });
});

describe('result shapes (insecure-local launcher)', () => {
  const local = createSandboxLauncher({ mode: 'insecure-local' });

  it('coerces models, dataclasses and objects; rejects other shapes saying what came back', async () => {
    const proc = await startSandboxProcess({
      launcher: local,
      spec: fixtureSpec('shapes'),
      manifest: legacyManifest('shapes'),
      loadTimeoutMs: 10_000,
    });
    const shapes = ['int', 'dataclass', 'model', 'plain', 'bool', 'string-score', 'inf-metric', 'bad-reason', 'huge', 'raise',
      'dict', 'dict-nan', 'dict-inf', 'dict-str-subclass-reason', 'dict-empty-metrics', 'async'];
    const outcomes = await proc.scoreBatch(shapes.map((shape) => ({ shape })), { perRowTimeoutMs: 5_000 });
    await proc.close();
    const summary = outcomes.map((o) => (o.ok ? o.result : o.retry ? 'retry' : `${o.error.kind}: ${o.error.message}`));
    expect(summary).toEqual([
      { score: 1, is_score_valid: true, reason: null, metrics: {} },
      { score: 0.75, is_score_valid: true, reason: 'dataclass', metrics: {} },
      { score: 0.5, is_score_valid: true, reason: 'pydantic', metrics: { m: { score: 1, is_score_valid: true, reason: null } } },
      { score: 0.25, is_score_valid: false, reason: 'plain object', metrics: {} },
      'invalid_result: expected a number, a dict or an EvaluateResult, got bool: True',
      "invalid_result: score must be a number, got str: 'high'",
      "invalid_result: metric 'm' must be finite, got inf",
      'invalid_result: reason must be a string or null, got int: 42',
      expect.stringMatching(/^invalid_result: result is \d+ bytes, more than the 1048576 allowed$/),
      'exception: ZeroDivisionError: division by zero',
      { score: 0.5, is_score_valid: false, reason: 'ok', metrics: {} },
      'invalid_result: score must be finite, got nan',
      'invalid_result: score must be finite, got -inf',
      { score: 0.5, is_score_valid: true, reason: 'sub', metrics: {} },
      { score: -0, is_score_valid: true, reason: null, metrics: {} },
      { score: 0.125, is_score_valid: true, reason: 'awaited', metrics: {} },
    ]);
  });
});

describe.skipIf(!available)('sandbox pool', () => {
  it('reuses a healthy process and never pools a dead one', async () => {
    const pool = createSandboxPool({ launcher, spec: fixtureSpec('crash'), manifest: legacyManifest('crash'), loadTimeoutMs: 10_000 });
    try {
      const first = await pool.retain();
      expect(await first.scoreBatch([{ x: 1 }], { perRowTimeoutMs: 5_000 })).toMatchObject([{ ok: true }]);
      pool.release(first);
      const again = await pool.retain();
      expect(again).toBe(first);
      await again.scoreBatch([{ x: 1, attack: true }], { perRowTimeoutMs: 5_000 });
      expect(again.state).toBe('dead');
      pool.release(again);
      const fresh = await pool.retain();
      expect(fresh).not.toBe(first);
      expect(fresh.state).toBe('ready');
      pool.release(fresh);
      expect(pool.stats).toMatchObject({ started: 2, idle: 1 });
    } finally {
      await pool.close();
    }
  });

  it('rejects with the load error instead of looping on a broken build', async () => {
    const pool = createSandboxPool({ launcher, spec: fixtureSpec('load-errors'), manifest: legacyManifest('load-errors', 'syntax.py'), loadTimeoutMs: 10_000 });
    await expect(pool.scoreBatch(ROWS, { perRowTimeoutMs: 5_000 })).rejects.toMatchObject({ reason: 'load_error' });
    await pool.close();
  });
});
