import { spawn, type ChildProcess } from 'node:child_process';
import { prlimitArgs, stdioFor } from './rlimits.js';
import type { InsecureLocalLauncherOptions, SandboxLauncher, SandboxSpec } from './types.js';

/**
 * NOT a sandbox: the child runs as the server's user, sees the whole file system and network.
 * It gets only the cleared environment and the rlimits. For development hosts without
 * bubblewrap, behind an explicit, loudly named operator switch.
 */
export function createInsecureLocalLauncher(options: InsecureLocalLauncherOptions): SandboxLauncher {
  const prlimit = options.prlimitPath ?? '/usr/bin/prlimit';
  return {
    mode: 'insecure-local',
    isolated: false,
    spawn(spec: SandboxSpec): ChildProcess {
      if (spec.command.length === 0) throw new RangeError('sandbox command is empty');
      return spawn(prlimit, [...prlimitArgs(spec.limits), ...spec.command], {
        cwd: spec.cwd,
        env: { ...spec.env },
        stdio: stdioFor(spec.extraFds),
        detached: true,
        shell: false,
      });
    },
  };
}
