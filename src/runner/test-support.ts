/** Shared by the runner tests and the throughput bench: a box for a fixture evaluator. */
import { chmodSync, cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SandboxLimits, SandboxSpec } from '../sandbox/index.js';
import type { HarnessManifest } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The sandbox runs as another uid, which must traverse every directory above what it binds. The
 * checkout may sit anywhere (a 0700 temporary directory in CI), so the harness and the fixtures
 * are copied once into a world-traversable directory under the system temp dir.
 */
function traversableCopy(): { harness: string; fixtures: string } {
  const root = mkdtempSync(join(tmpdir(), 'tally-fixtures-'));
  cpSync(resolve(here, '../harness/python'), join(root, 'harness'), { recursive: true });
  cpSync(resolve(here, '../../test/fixtures/evaluators'), join(root, 'evaluators'), { recursive: true });
  openUp(root);
  return { harness: join(root, 'harness'), fixtures: join(root, 'evaluators') };
}

function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) openUp(path);
    else chmodSync(path, 0o644);
  }
}

const copy = traversableCopy();
export const HARNESS_DIR = copy.harness;
export const FIXTURES_DIR = copy.fixtures;

export const FIXTURE_LIMITS: SandboxLimits = {
  addressSpaceBytes: 512 * 1024 * 1024,
  cpuSeconds: 120,
  processes: 32,
  fileSizeBytes: 16 * 1024 * 1024,
  openFiles: 256,
};

export const BOX_ENV = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/tmp' };

export function fixtureSpec(name: string, overrides: Partial<SandboxSpec> = {}): Omit<SandboxSpec, 'extraFds'> {
  const root = join(FIXTURES_DIR, name);
  return {
    command: ['/usr/bin/python3', '-I', join(HARNESS_DIR, 'harness.py')],
    readOnlyBinds: [HARNESS_DIR, root],
    cwd: root,
    env: BOX_ENV,
    network: false,
    limits: FIXTURE_LIMITS,
    ...overrides,
  };
}

export function legacyManifest(name: string, file = 'main.py', func = 'evaluate'): HarnessManifest {
  return { contract: 'legacy', root: join(FIXTURES_DIR, name), file, func };
}
