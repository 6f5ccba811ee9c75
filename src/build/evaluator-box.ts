import { dirname } from 'node:path';
import type { HarnessManifest } from '../runner/protocol.js';
import type { SandboxLimits, SandboxSpec } from '../sandbox/index.js';

/** Everything needed to start a sandbox process for one evaluator build. */
export interface EvaluatorBox {
  /** The build directory: `src/` (the code, read-only) and `manifest.json`. */
  buildDir: string;
  /** The Python environment (a venv made from /usr/bin/python3). */
  envDir: string;
  manifest: HarnessManifest;
}

export interface BoxRuntime {
  /** The harness script, in a directory the sandbox uid can read. */
  harnessPath: string;
  limits: SandboxLimits;
  /** Extra environment for the evaluator (its account's secrets). */
  env?: Record<string, string>;
  network?: boolean;
}

export const DEFAULT_EVALUATOR_LIMITS: SandboxLimits = {
  addressSpaceBytes: 4 * 1024 ** 3,
  cpuSeconds: 3600,
  processes: 64,
  fileSizeBytes: 64 * 1024 ** 2,
  openFiles: 256,
};

/**
 * The sandbox spec of an evaluator process: its build, its environment and the harness bound
 * read-only at their host paths, nothing else of the host's files, a cleared environment.
 */
export function evaluatorSandboxSpec(box: EvaluatorBox, runtime: BoxRuntime): Omit<SandboxSpec, 'extraFds'> {
  return {
    command: [`${box.envDir}/bin/python`, '-I', '-B', runtime.harnessPath],
    readOnlyBinds: [box.buildDir, box.envDir, dirname(runtime.harnessPath)],
    cwd: box.manifest.root,
    env: {
      PATH: `${box.envDir}/bin:/usr/bin:/bin`,
      HOME: '/tmp',
      LANG: 'C.UTF-8',
      PYTHONDONTWRITEBYTECODE: '1',
      // eval-protocol imports litellm, which otherwise tries to fetch a price list at import.
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      ...runtime.env,
    },
    network: runtime.network ?? false,
    limits: runtime.limits,
  };
}
