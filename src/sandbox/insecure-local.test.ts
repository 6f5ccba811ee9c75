import { describe, expect, it } from 'vitest';
import { createSandboxLauncher } from './index.js';
import { runPython, TEST_LIMITS } from './test-support.js';

describe('insecure-local launcher', () => {
  const launcher = createSandboxLauncher({ mode: 'insecure-local' });

  it('says it is not isolated', () => {
    expect(launcher.mode).toBe('insecure-local');
    expect(launcher.isolated).toBe(false);
  });

  it('clears the environment and applies rlimits', async () => {
    const run = await runPython(launcher, `
import os, resource
print(sorted(os.environ))
print(resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_NOFILE)[0])`, { env: { ONLY: '1' } });
    expect(run.stdout).toContain("['LC_CTYPE', 'ONLY']");
    expect(run.stdout).toContain(`${TEST_LIMITS.addressSpaceBytes} ${TEST_LIMITS.openFiles}`);
  });

  it('hands the environment over as the spawn environment, not the argv', async () => {
    const child = launcher.spawn({
      command: ['/usr/bin/python3', '-c', 'import os; print(os.environ["TOKEN"])'],
      readOnlyBinds: [], cwd: '/tmp', env: { TOKEN: 'value-only-in-env-1234' }, network: false, limits: TEST_LIMITS,
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((r) => child.once('close', r));
    expect(out.trim()).toBe('value-only-in-env-1234');
    expect(child.spawnargs.join(' ')).not.toContain('value-only-in-env');
  });
});
