import { chmodSync, chownSync, copyFileSync, cpSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEvaluatorBuilder, type EnvironmentProvider } from './build/builder.js';
import { DEFAULT_EVALUATOR_LIMITS, type BoxRuntime } from './build/evaluator-box.js';
import { ensureEnvironment, sandboxedInstaller } from './build/environments.js';
import type { Config } from './config/index.js';
import { createSandboxLauncher, detectBubblewrap, type SandboxLauncher } from './sandbox/index.js';
import type { EvaluatorBuilder } from './services/build-queue.js';

/** eval-protocol, installed into every entry-point evaluator's environment (design.md). */
export const EVAL_PROTOCOL_REQUIREMENT = 'eval-protocol==0.3.33';

const HARNESS_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'harness', 'python', 'harness.py');
/** The harness's package, next to its entry point (src/harness/python/README.md). */
const HARNESS_PACKAGE = 'tally_harness';

export interface EvaluatorRuntime {
  launcher: SandboxLauncher;
  builder: EvaluatorBuilder;
  box: BoxRuntime;
  environments: EnvironmentProvider;
  warnings: string[];
}

/**
 * The parts that run untrusted code: the sandbox launcher, the harness (copied into the data
 * directory, where the sandbox uid can read it), environments and the builder.
 */
export async function createEvaluatorRuntime(config: Config): Promise<EvaluatorRuntime> {
  const warnings: string[] = [];
  if (config.sandbox === 'bubblewrap' && !(await detectBubblewrap({ bwrapPath: config.bwrapPath }))) {
    throw new Error(
      'bubblewrap (bwrap) is not usable on this host, so evaluator code cannot be isolated. Install the "bubblewrap" package, ' +
        'or start with --insecure-local-sandbox (TALLY_SANDBOX=insecure-local) to run evaluators without isolation.',
    );
  }
  if (config.sandbox === 'insecure-local') {
    warnings.push('WARNING: insecure-local sandbox: evaluator code runs with this server\'s user, files, network and environment.');
  }
  const launcher = createSandboxLauncher(config.sandbox === 'bubblewrap' ? { mode: 'bubblewrap', bwrapPath: config.bwrapPath } : { mode: 'insecure-local' });
  makeTraversable(config.dataDir);
  const runtimeDir = ensureDir(join(config.dataDir, 'runtime'));
  const harnessPath = join(runtimeDir, 'harness.py');
  copyFileSync(HARNESS_SOURCE, harnessPath);
  copyHarnessPackage(join(dirname(HARNESS_SOURCE), HARNESS_PACKAGE), join(runtimeDir, HARNESS_PACKAGE));
  const box: BoxRuntime = { harnessPath, limits: DEFAULT_EVALUATOR_LIMITS };
  const environments = createEnvironmentProvider(ensureDir(config.envDir ?? join(config.dataDir, 'envs')), launcher, config.pipIndexUrl);
  const builder = createEvaluatorBuilder({
    buildsRoot: ensurePrivateBuilds(join(config.dataDir, 'builds'), launcher.fileGroup),
    environments,
    launcher,
    runtime: box,
    entryPointExtras: [EVAL_PROTOCOL_REQUIREMENT],
    gitBaseUrl: config.gitBaseUrl,
  });
  return { launcher, builder, box, environments, warnings };
}

/** A fresh copy each start (an older server's modules must not linger), without bytecode caches. */
function copyHarnessPackage(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, filter: (source) => !source.includes('__pycache__') });
  chmodSync(to, 0o755);
}

/** pip runs sandboxed too, with the network open (it must reach the package index) and only the new environment writable. */
function createEnvironmentProvider(envRoot: string, launcher: SandboxLauncher, pipIndexUrl: string | undefined): EnvironmentProvider {
  const runInstaller = sandboxedInstaller({
    launcher,
    limits: { ...DEFAULT_EVALUATOR_LIMITS, processes: 256, fileSizeBytes: 1024 ** 3, openFiles: 1024 },
    readOnlyBinds: ['/etc/ssl', '/etc/ca-certificates'],
  });
  return {
    async ensure({ requirements, extras, log, onStep, signal }) {
      const pip = pipIndexUrl === undefined ? undefined : { indexUrl: pipIndexUrl };
      const env = await ensureEnvironment({ envRoot, requirements, extras, runInstaller, log, onStep, signal, ...(pip ? { pip } : {}) });
      return { envDir: env.path, hash: env.hash };
    },
  };
}

/**
 * Sandboxed processes run as other uids and must reach their builds and environments inside the
 * data directory: it becomes traversable (0711, not listable) and so must every directory above
 * it. The database files inside stay private (created 0600/0644 by their owners).
 */
function makeTraversable(dataDir: string): void {
  chmodSync(dataDir, 0o711);
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(`the data directory ${dataDir} is inside ${dir}, which other users cannot traverse, so sandboxed evaluators could not reach their builds: choose another --data-dir or run chmod o+x ${dir}`);
    }
    if (dir === dirname(dir)) return;
  }
}

/**
 * `builds/` holds every account's evaluator code: only this user and the sandbox file group may
 * enter it (0710: not listable even for them), so other host users cannot read a build while the
 * sandbox uids still reach theirs by path. Without a sandbox group (insecure-local: evaluators run
 * as this user) it is this user's alone.
 */
function ensurePrivateBuilds(path: string, fileGroup: number | undefined): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (fileGroup === undefined) {
    chmodSync(path, 0o700);
    return path;
  }
  try {
    chownSync(path, process.getuid?.() ?? 0, fileGroup);
  } catch (error: unknown) {
    throw new Error(`cannot give ${path} to the sandbox file group ${fileGroup}: ${(error as Error).message} (the bubblewrap sandbox needs the server to run as root)`, { cause: error });
  }
  chmodSync(path, 0o710);
  return path;
}

function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o755 });
  return path;
}
