/** How a process is isolated: bubblewrap as an unprivileged host uid, or an honest insecure mode. */
import { createBubblewrapLauncher } from './bubblewrap.js';
import { createInsecureLocalLauncher } from './insecure-local.js';
import type { SandboxLauncher, SandboxLauncherOptions } from './types.js';

export { detectBubblewrap } from './detect.js';
export { bubblewrapArgv } from './bubblewrap.js';
export type {
  BubblewrapLauncherOptions,
  InsecureLocalLauncherOptions,
  SandboxLauncher,
  SandboxLauncherOptions,
  SandboxLimits,
  SandboxMode,
  SandboxSpec,
} from './types.js';

export function createSandboxLauncher(options: SandboxLauncherOptions): SandboxLauncher {
  switch (options.mode) {
    case 'bubblewrap':
      return createBubblewrapLauncher(options);
    case 'insecure-local':
      return createInsecureLocalLauncher(options);
  }
}
