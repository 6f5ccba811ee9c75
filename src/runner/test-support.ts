/** Shared by the runner tests and the throughput bench: a box for a fixture evaluator. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SandboxLimits, SandboxSpec } from '../sandbox/index.js';
import type { HarnessManifest } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
export const HARNESS_DIR = resolve(here, '../harness/python');
export const FIXTURES_DIR = resolve(here, '../../test/fixtures/evaluators');

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
