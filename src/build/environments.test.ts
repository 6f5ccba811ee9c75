/**
 * Real environments: these create venvs with /usr/bin/python3 and run pip through the local
 * (unsandboxed) installer. The tests marked NETWORK install from the package index.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isApiError } from '../domain/errors.js';
import { ensureEnvironment, mostUsefulLine, runInstallerLocally, sandboxedInstaller } from './environments.js';

const runInstaller = runInstallerLocally();
let envRoot: string;

beforeAll(async () => {
  envRoot = await mkdtemp(path.join(tmpdir(), 'tally-env-test-'));
});
afterAll(async () => {
  await rm(envRoot, { recursive: true, force: true });
});

function collector(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

describe('ensureEnvironment', () => {
  it('builds an empty environment once, then serves it from the cache', async () => {
    const cold = collector();
    const [first, coldMs] = await timed(() => ensureEnvironment({ envRoot, requirements: '# nothing\n', runInstaller, log: cold.log }));
    expect(first.cached).toBe(false);
    expect(first.path).toBe(path.join(envRoot, first.hash));
    expect(existsSync(path.join(first.path, '.ready'))).toBe(true);
    expect((await stat(first.path)).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(first.path, '.ready'))).mode & 0o777).toBe(0o644);
    expect(execFileSync(first.python, ['-c', 'import sys; print(sys.prefix)'], { env: {} }).toString().trim()).toBe(first.path);
    // The venv was built under a temporary name; its scripts point at the final one.
    expect(await readFile(path.join(first.path, 'bin', 'pip'), 'utf8')).toContain(`#!${first.path}/bin/python`);
    expect(cold.lines.some((line) => line.includes('No requirements to install'))).toBe(true);

    const warm = collector();
    const [second, warmMs] = await timed(() => ensureEnvironment({ envRoot, requirements: '', runInstaller, log: warm.log }));
    expect(second).toEqual({ ...first, cached: true });
    console.log(`empty environment: cold ${coldMs.toFixed(0)} ms, warm ${warmMs.toFixed(1)} ms`);
    expect(warmMs).toBeLessThan(200);
    expect((await readdir(envRoot)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  }, 120_000);

  it('builds one environment for two concurrent calls with the same requirements', async () => {
    const root = path.join(envRoot, 'concurrent');
    const [a, b] = await Promise.all([
      ensureEnvironment({ envRoot: root, requirements: '', extras: [], runInstaller, log: () => undefined }),
      ensureEnvironment({ envRoot: root, requirements: '# same set\n', runInstaller, log: () => undefined }),
    ]);
    expect(a.path).toBe(b.path);
    expect([a.cached, b.cached].sort()).toEqual([false, true]);
    expect((await readdir(root)).sort()).toEqual(['.pip-cache', a.hash]);
  }, 120_000);

  it('lets two processes race: the first rename wins, the loser reuses it', async () => {
    const root = path.join(envRoot, 'race');
    // A second copy of the module has its own in-process map, like another server process.
    vi.resetModules();
    const other = await import('./environments.js');
    const [a, b] = await Promise.all([
      ensureEnvironment({ envRoot: root, requirements: '', runInstaller, log: () => undefined }),
      other.ensureEnvironment({ envRoot: root, requirements: '', runInstaller, log: () => undefined }),
    ]);
    expect(a.path).toBe(b.path);
    expect((await readdir(root)).sort()).toEqual(['.pip-cache', a.hash]);
    expect(existsSync(path.join(a.path, '.ready'))).toBe(true);
  }, 120_000);

  it('refuses requirements that point outside the configured index before building', async () => {
    const error = await ensureEnvironment({
      envRoot, requirements: '--extra-index-url https://example.invalid/simple\nsix\n', runInstaller, log: () => undefined,
    }).catch((e: unknown) => e);
    expect(isApiError(error) && error.code).toBe('INVALID_ARGUMENT');
  });
});

describe('ensureEnvironment (NETWORK: installs from the package index)', () => {
  it('installs six==1.16.0 and streams pip output to the log', async () => {
    const { lines, log } = collector();
    const steps: string[] = [];
    const [env, coldMs] = await timed(() => ensureEnvironment({ envRoot, requirements: 'six==1.16.0\n', extras: ['packaging'], runInstaller, log, onStep: (s) => steps.push(s) }));
    expect(env.cached).toBe(false);
    expect(steps).toEqual(['creating the environment', 'creating the environment: installing 2 requirements']);
    expect(execFileSync(env.python, ['-c', 'import six; print(six.__version__)'], { env: {} }).toString().trim()).toBe('1.16.0');
    expect(lines.some((line) => /Successfully installed .*six-1\.16\.0/.test(line))).toBe(true);
    // Readable by the sandbox uid: nothing in site-packages is private.
    const site = path.join(env.path, 'lib');
    expect(execFileSync('find', [site, '!', '-perm', '-o=r'], { env: {} }).toString()).toBe('');
    const warmSteps: string[] = [];
    const [again, warmMs] = await timed(() => ensureEnvironment({ envRoot, requirements: 'six == 1.16.0  # same\n', extras: ['packaging'], runInstaller, log, onStep: (s) => warmSteps.push(s) }));
    expect(again.cached).toBe(true);
    expect(warmSteps).toEqual([]);
    console.log(`six==1.16.0: cold ${coldMs.toFixed(0)} ms, warm ${warmMs.toFixed(1)} ms`);
  }, 300_000);

  it('fails with pip\'s ERROR line when a requirement does not exist, and logs everything', async () => {
    const { lines, log } = collector();
    const error = await ensureEnvironment({ envRoot, requirements: 'nonexistent-pkg-xyz==9.9\n', runInstaller, log }).catch(
      (e: unknown) => e,
    );
    expect(isApiError(error) && error.code).toBe('FAILED_PRECONDITION');
    expect((error as Error).message).toMatch(/^ERROR: (Could not find a version that satisfies the requirement|No matching distribution found for) nonexistent-pkg-xyz==9\.9/);
    expect(lines.some((line) => line.startsWith('ERROR: No matching distribution found for nonexistent-pkg-xyz'))).toBe(true);
    expect((await readdir(envRoot)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  }, 300_000);
});

describe('mostUsefulLine', () => {
  it('prefers the first ERROR line, then anything that says error, then the last line', () => {
    expect(mostUsefulLine('Collecting x\nERROR: first\nERROR: second\n')).toBe('ERROR: first');
    expect(mostUsefulLine('a\nsubprocess-exited-with-error\nb\n')).toBe('subprocess-exited-with-error');
    expect(mostUsefulLine('a\nb\n\n')).toBe('b');
    expect(mostUsefulLine('')).toBeUndefined();
  });
});

describe('ensureEnvironment in a bubblewrap box (NETWORK)', async () => {
  const { createSandboxLauncher, detectBubblewrap } = await import('../sandbox/index.js');
  const available = await detectBubblewrap();
  it.skipIf(!available)('installs six as an unprivileged sandbox uid, then owns and hardens the result', async () => {
    // The sandbox uid must be able to reach envRoot: mkdtemp makes it 0700.
    const { chmod } = await import('node:fs/promises');
    await chmod(envRoot, 0o755);
    const root = path.join(envRoot, 'boxed');
    const installer = sandboxedInstaller({
      launcher: createSandboxLauncher({ mode: 'bubblewrap' }),
      limits: { addressSpaceBytes: 4 * 2 ** 30, cpuSeconds: 600, processes: 256, fileSizeBytes: 1 << 30, openFiles: 1024 },
    });
    const { lines, log } = collector();
    const [env, coldMs] = await timed(() => ensureEnvironment({ envRoot: root, requirements: 'six==1.16.0', runInstaller: installer, log }));
    console.log(`sandboxed six==1.16.0: cold ${coldMs.toFixed(0)} ms`);
    expect(lines.some((line) => /Successfully installed .*six-1\.16\.0/.test(line)), lines.join('\n')).toBe(true);
    expect(execFileSync(env.python, ['-c', 'import six; print(six.__version__)'], { env: {} }).toString().trim()).toBe('1.16.0');
    const info = await stat(path.join(env.path, 'lib'));
    expect([info.uid, info.mode & 0o777]).toEqual([process.getuid?.(), 0o755]);
    expect(execFileSync('find', [env.path, '-perm', '/o=w', '!', '-type', 'l'], { env: {} }).toString()).toBe('');
  }, 300_000);
});
