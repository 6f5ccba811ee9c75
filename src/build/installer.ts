/**
 * How the environment builder runs `python -m venv` and `pip install`. pip runs code from the
 * packages it installs (setup.py of sdists), so in production the installer is the sandboxed
 * one (`sandboxedInstaller`); `runInstallerLocally` has no isolation and is for tests and
 * development hosts only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { SandboxLauncher, SandboxLimits } from '../sandbox/index.js';
import { LineSplitter } from './build-log.js';

export interface InstallerOptions {
  cwd: string;
  /** The complete environment of the installer: nothing is inherited. */
  env: Record<string, string>;
  /** pip needs the package index; the box's network is opened for it. */
  network: true;
  /** Host paths the installer writes to (the environment being built and the pip cache). */
  writableBinds: string[];
  /** Called with every line of output as it arrives. */
  onLine?: (line: string) => void;
  /** Kills the installer (the server is stopping); the run then fails. */
  signal?: AbortSignal;
}

export interface InstallerResult {
  exitCode: number;
  /** Combined stdout and stderr (the last MAX_OUTPUT_BYTES of it). */
  output: string;
}

export type RunInstaller = (argv: string[], options: InstallerOptions) => Promise<InstallerResult>;

/** Keeps memory bounded whatever the installer prints; the log has it all, line by line. */
const MAX_OUTPUT_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15 * 60 * 1000;

/** Waits for a spawned child, streaming its output as lines; kills its group on timeout. */
export function collectOutput(child: ChildProcess, options: InstallerOptions, timeoutMs: number): Promise<InstallerResult> {
  return new Promise((resolve, reject) => {
    let output = '';
    const splitter = new LineSplitter((line) => {
      output += `${line}\n`;
      if (output.length > MAX_OUTPUT_BYTES * 2) output = output.slice(-MAX_OUTPUT_BYTES);
      options.onLine?.(line);
    });
    child.stdout?.on('data', (chunk: Buffer) => splitter.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => splitter.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    const onAbort = (): void => killGroup(child);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    child.once('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      splitter.end();
      if (options.signal?.aborted) splitter.push('ERROR: the installer was stopped: the server is shutting down\n');
      else if (timedOut) splitter.push(`ERROR: the installer was stopped after ${Math.round(timeoutMs / 1000)} s\n`);
      else if (signal !== null) splitter.push(`ERROR: the installer was killed by ${signal} (a resource limit?)\n`);
      splitter.end();
      resolve({ exitCode: code ?? (signal === null ? 1 : 128), output: output.slice(-MAX_OUTPUT_BYTES) });
    });
  });
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/**
 * NO ISOLATION: runs the installer as the server's own user. Only for tests and development;
 * a server must pass `sandboxedInstaller(...)`. The environment is still cleared.
 */
export function runInstallerLocally(options: { timeoutMs?: number } = {}): RunInstaller {
  return (argv, installerOptions) => {
    const [file, ...args] = argv;
    if (file === undefined) throw new RangeError('installer argv is empty');
    const child = spawn(file, args, {
      cwd: installerOptions.cwd,
      env: { ...installerOptions.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      shell: false,
    });
    return collectOutput(child, installerOptions, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  };
}

/**
 * Roomy enough for pip building a C extension from an sdist; the wall clock is `timeoutMs`.
 * RLIMIT_AS is per process, and compilers reserve far more address space than they use.
 */
export const DEFAULT_INSTALLER_LIMITS: SandboxLimits = {
  addressSpaceBytes: 8 * 1024 * 1024 * 1024,
  cpuSeconds: 30 * 60,
  processes: 512,
  fileSizeBytes: 2 * 1024 * 1024 * 1024,
  openFiles: 4096,
};

export interface SandboxedInstallerOptions {
  launcher: SandboxLauncher;
  /** @default DEFAULT_INSTALLER_LIMITS */
  limits?: SandboxLimits;
  /** Extra host paths the installer may read (the interpreter under /usr is always there). */
  readOnlyBinds?: string[];
  timeoutMs?: number;
  /** Private /tmp size: pip unpacks and builds sdists there. */
  tmpBytes?: number;
}

/** Runs the installer in a sandbox box with the network open and only the build dirs writable. */
export function sandboxedInstaller(options: SandboxedInstallerOptions): RunInstaller {
  return (argv, installerOptions) => {
    const child = options.launcher.spawn({
      command: argv,
      readOnlyBinds: options.readOnlyBinds ?? [],
      writableBinds: installerOptions.writableBinds,
      cwd: installerOptions.cwd,
      env: installerOptions.env,
      network: installerOptions.network,
      limits: options.limits ?? DEFAULT_INSTALLER_LIMITS,
      tmpBytes: options.tmpBytes ?? 1024 * 1024 * 1024,
    });
    child.stdin?.end();
    return collectOutput(child, installerOptions, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  };
}
