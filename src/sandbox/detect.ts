import { createBubblewrapLauncher } from './bubblewrap.js';
import type { BubblewrapLauncherOptions } from './types.js';

const PROBE_LIMITS = {
  addressSpaceBytes: 256 * 1024 * 1024,
  cpuSeconds: 5,
  processes: 16,
  fileSizeBytes: 1024 * 1024,
  openFiles: 64,
};

/**
 * True when a real box can be started here: bwrap, setpriv and prlimit exist and user
 * namespaces work for an unprivileged uid. Runs `/usr/bin/true` in the same box we use.
 */
export async function detectBubblewrap(
  options: Omit<BubblewrapLauncherOptions, 'mode'> = {},
  timeoutMs = 5_000,
): Promise<boolean> {
  let child;
  try {
    child = createBubblewrapLauncher({ ...options, mode: 'bubblewrap' }).spawn({
      command: ['/usr/bin/true'],
      readOnlyBinds: [],
      cwd: '/',
      env: {},
      network: false,
      limits: PROBE_LIMITS,
    });
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(false);
    }, timeoutMs);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

