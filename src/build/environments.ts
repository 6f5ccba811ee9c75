/**
 * Python environments, one per distinct (interpreter, requirement set, extras), shared by every
 * evaluator that asks for the same thing. Layout under envRoot:
 *   <hash>/              a finished venv; `<hash>/.ready` records what is in it
 *   <hash>.tmp-<random>/ a build in progress (renamed to <hash> when complete)
 *   .pip-cache/          pip's download cache, shared by builds to save downloads
 * `.ready` is written inside the temporary directory before the rename, so `<hash>` appears
 * complete or not at all; two builders of the same hash (in two processes) race only on the
 * rename, and the loser throws its copy away. Within one process they share one promise.
 * With the sandboxed installer, envRoot and every parent must be searchable (o+x) by the
 * sandbox uids, which bind the build directory and the pip cache read-write.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { failedPrecondition } from '../domain/errors.js';
import { hardenTree, rewritePrefix } from './environment-files.js';
import type { RunInstaller } from './installer.js';
import { normaliseRequirements, requirementsHash } from './requirements.js';

export { normaliseRequirements, requirementsHash } from './requirements.js';
export { runInstallerLocally, sandboxedInstaller, type RunInstaller } from './installer.js';

export interface PipSettings {
  /** The one index builds install from; pip's default when absent. */
  indexUrl?: string;
  /** CA bundle for the index (must be readable inside the sandbox, e.g. under /etc/ssl/certs). */
  certFile?: string;
  timeoutSeconds?: number;
}

export interface EnsureEnvironmentOptions {
  envRoot: string;
  /** requirements.txt as uploaded; normalised here. */
  requirements: string;
  /** Always-installed requirements, e.g. eval-protocol for entry-point evaluators. */
  extras?: string[];
  /** @default '/usr/bin/python3' (the pyenv python on PATH is not readable inside the sandbox) */
  python?: string;
  runInstaller: RunInstaller;
  log: (line: string) => void;
  /** Told what the environment build is doing, for the evaluator's status (a step, not a log line). */
  onStep?: (step: string) => void;
  /** Stops an environment build under way (the server is stopping): pip is killed, nothing is kept. */
  signal?: AbortSignal;
  pip?: PipSettings;
}

export interface Environment {
  hash: string;
  /** The venv directory. */
  path: string;
  /** The venv's interpreter. */
  python: string;
  /** True when the environment already existed (or another caller built it meanwhile). */
  cached: boolean;
}

const READY = '.ready';
const REQUIREMENTS_FILE = 'tally-requirements.txt';
/** A build directory older than this is the leftover of a crashed process. */
const STALE_BUILD_MS = 24 * 60 * 60 * 1000;

const inFlight = new Map<string, Promise<Environment>>();

export async function ensureEnvironment(options: EnsureEnvironmentOptions): Promise<Environment> {
  const python = options.python ?? '/usr/bin/python3';
  const normalised = normaliseRequirements(options.requirements);
  const extras = (options.extras ?? []).map((extra) => normaliseRequirements(extra)).filter(Boolean);
  const hash = requirementsHash(normalised, { python: await pythonIdentity(python), extras });
  const envRoot = path.resolve(options.envRoot);
  const finalDir = path.join(envRoot, hash);
  const environment: Environment = { hash, path: finalDir, python: path.join(finalDir, 'bin', 'python'), cached: true };
  if (await exists(path.join(finalDir, READY))) {
    options.log(`Using the cached environment ${hash}`);
    return environment;
  }
  const running = inFlight.get(finalDir);
  if (running !== undefined) {
    options.log(`Waiting for a build of the same environment ${hash} already in progress`);
    options.onStep?.('waiting for the same environment, being created by another build');
    return { ...(await running), cached: true };
  }
  const build = buildEnvironment({ ...options, python, envRoot, hash, finalDir, normalised, extras });
  inFlight.set(finalDir, build);
  try {
    return await build;
  } finally {
    inFlight.delete(finalDir);
  }
}

interface BuildPlan extends EnsureEnvironmentOptions {
  python: string;
  envRoot: string;
  hash: string;
  finalDir: string;
  normalised: string;
  extras: string[];
}

async function buildEnvironment(plan: BuildPlan): Promise<Environment> {
  await prepareRoot(plan.envRoot);
  const tmpDir = `${plan.finalDir}.tmp-${randomBytes(6).toString('hex')}`;
  // The installer may run as another (sandbox) uid: it must be able to write here until done.
  await mkdir(tmpDir, { mode: 0o777 });
  await chmod(tmpDir, 0o777);
  try {
    const started = Date.now();
    plan.log(`Creating environment ${plan.hash} with ${plan.python}`);
    plan.onStep?.('creating the environment');
    await install(plan, tmpDir);
    await finish(plan, tmpDir);
    const won = await publish(tmpDir, plan.finalDir);
    plan.log(`Environment ${plan.hash} ${won ? 'ready' : 'was built meanwhile by another process'} after ${Date.now() - started} ms`);
    return { hash: plan.hash, path: plan.finalDir, python: path.join(plan.finalDir, 'bin', 'python'), cached: !won };
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}

async function prepareRoot(envRoot: string): Promise<void> {
  await mkdir(envRoot, { recursive: true, mode: 0o755 });
  await mkdir(path.join(envRoot, '.pip-cache'), { recursive: true, mode: 0o777 });
  await chmod(path.join(envRoot, '.pip-cache'), 0o777);
  await sweepStaleBuilds(envRoot);
}

async function sweepStaleBuilds(envRoot: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(envRoot)) {
    if (!/\.tmp-[0-9a-f]+$/.test(name)) continue;
    const info = await stat(path.join(envRoot, name)).catch(() => undefined);
    if (info !== undefined && now - info.mtimeMs > STALE_BUILD_MS) {
      await rm(path.join(envRoot, name), { recursive: true, force: true });
    }
  }
}

/**
 * One installer run creates the venv and fills it: the sandbox hands each run its own uid, so
 * a second run could not write into a venv the first one created. User data never reaches the
 * shell: paths are ours and arrive as positional parameters, requirements sit in a file.
 */
const INSTALL_SCRIPT = [
  'set -e',
  '"$1" -m venv "$2"',
  'if [ -s "$3" ]; then',
  '  "$2/bin/python" -m pip install --no-input --disable-pip-version-check --progress-bar off \\',
  '    --no-warn-script-location --cache-dir "$4" -r "$3"',
  'else',
  "  echo 'No requirements to install'",
  'fi',
].join('\n');

async function install(plan: BuildPlan, tmpDir: string): Promise<void> {
  const requirementsFile = path.join(tmpDir, REQUIREMENTS_FILE);
  const lines = [plan.normalised, ...plan.extras].filter((text) => text !== '');
  const count = lines.join('\n').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('-')).length;
  plan.onStep?.(`creating the environment: installing ${count} requirement${count === 1 ? '' : 's'}`);
  await writeFile(requirementsFile, lines.length === 0 ? '' : `${lines.join('\n')}\n`, { mode: 0o644 });
  const cacheDir = path.join(plan.envRoot, '.pip-cache');
  const argv = ['/bin/sh', '-c', INSTALL_SCRIPT, 'tally-install', plan.python, tmpDir, requirementsFile, cacheDir];
  plan.log(`Creating the virtual environment and installing: ${lines.length === 0 ? '(nothing)' : lines.join(' ').replace(/\n/g, ' ')}`);
  const result = await plan.runInstaller(argv, {
    cwd: tmpDir,
    env: installerEnv(plan, tmpDir),
    network: true,
    writableBinds: [tmpDir, cacheDir],
    onLine: plan.log,
    signal: plan.signal,
  });
  if (result.exitCode !== 0) {
    throw failedPrecondition(`${mostUsefulLine(result.output) ?? 'installing the requirements failed'} (exit code ${result.exitCode})`);
  }
}

/** Everything pip gets: nothing from the server's environment or pip's own config files. */
function installerEnv(plan: BuildPlan, tmpDir: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${path.join(tmpDir, 'bin')}:/usr/bin:/bin`,
    HOME: '/tmp',
    LANG: 'C.UTF-8',
    PIP_CONFIG_FILE: '/dev/null',
    PIP_NO_INPUT: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_ROOT_USER_ACTION: 'ignore',
    PIP_DEFAULT_TIMEOUT: String(plan.pip?.timeoutSeconds ?? 60),
    PYTHONNOUSERSITE: '1',
    VIRTUAL_ENV: tmpDir,
  };
  if (plan.pip?.indexUrl !== undefined) env['PIP_INDEX_URL'] = plan.pip.indexUrl;
  if (plan.pip?.certFile !== undefined) env['PIP_CERT'] = plan.pip.certFile;
  return env;
}

/** pip's first ERROR line says what went wrong; otherwise the last non-blank line. */
export function mostUsefulLine(output: string): string | undefined {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.find((line) => line.startsWith('ERROR:')) ?? lines.findLast((line) => /error/i.test(line)) ?? lines.at(-1);
}

/** Makes the tree readable by the sandbox uid and owned by us, points it at its final path. */
async function finish(plan: BuildPlan, tmpDir: string): Promise<void> {
  await rewritePrefix(tmpDir, plan.finalDir);
  const ready = { hash: plan.hash, python: plan.python, requirements: plan.normalised, extras: plan.extras, createdAt: new Date().toISOString() };
  await writeFile(path.join(tmpDir, READY), `${JSON.stringify(ready, null, 2)}\n`, { mode: 0o644 });
  await hardenTree(tmpDir);
}

/** Renames into place; false when another builder got there first (its copy is as good). */
async function publish(tmpDir: string, finalDir: string): Promise<boolean> {
  try {
    await rename(tmpDir, finalDir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await exists(path.join(finalDir, READY)))) return false;
    throw error;
  }
}

const pythonIdentities = new Map<string, Promise<string>>();

/** Path and exact version of the base interpreter: an upgrade must not reuse old environments. */
function pythonIdentity(python: string): Promise<string> {
  let identity = pythonIdentities.get(python);
  if (identity === undefined) {
    identity = promisify(execFile)(python, ['-c', 'import sys; print(sys.version)'], { env: {} }).then(
      ({ stdout }) => `${python} ${stdout.trim()}`,
      (error: unknown) => {
        pythonIdentities.delete(python);
        throw failedPrecondition(`the build interpreter ${python} does not run: ${(error as Error).message}`);
      },
    );
    pythonIdentities.set(python, identity);
  }
  return identity;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
