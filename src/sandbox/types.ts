/**
 * Terminology
 * - sandbox launcher: turns a SandboxSpec into a running child process, isolated or not.
 * - box: the view of the file system, network and identity the child gets.
 * - limits: kernel rlimits applied to the child (and everything it forks).
 */
import type { ChildProcess } from 'node:child_process';

export type SandboxMode = 'bubblewrap' | 'insecure-local';

/** Kernel resource limits; each becomes one rlimit (soft = hard). */
export interface SandboxLimits {
  /** RLIMIT_AS: virtual address space per process, in bytes. */
  addressSpaceBytes: number;
  /** RLIMIT_CPU: CPU seconds per process over its whole life (a warm process accumulates). */
  cpuSeconds: number;
  /** RLIMIT_NPROC: processes + threads of the sandbox uid. */
  processes: number;
  /** RLIMIT_FSIZE: largest file the child may write, in bytes. */
  fileSizeBytes: number;
  /** RLIMIT_NOFILE: open file descriptors per process. */
  openFiles: number;
}

export interface SandboxSpec {
  /** argv inside the box; argv[0] is an absolute path visible in the box. */
  command: string[];
  /** Host paths bound read-only at the same path inside the box. */
  readOnlyBinds: string[];
  /** Host paths bound read-write at the same path (must be writable by the sandbox uid). */
  writableBinds?: string[];
  /** Working directory inside the box. */
  cwd: string;
  /** The ONLY environment the child gets. */
  env: Record<string, string>;
  /** Allow egress (shares the host network namespace and binds resolv.conf). */
  network: boolean;
  limits: SandboxLimits;
  /**
   * Extra pipes opened as fds 3, 4, ... in the child (`child.stdio[3]`, ...).
   * @default 0
   */
  extraFds?: number;
  /**
   * Size cap of the private /tmp (bubblewrap only; tmpfs pages are not covered by RLIMIT_AS).
   * @default 64 MiB
   */
  tmpBytes?: number;
}

export interface SandboxLauncher {
  readonly mode: SandboxMode;
  /** False for insecure-local: callers may refuse to run untrusted code on it. */
  readonly isolated: boolean;
  /** The group sandbox processes hold to read their builds (bubblewrap); absent when they run as this user. */
  readonly fileGroup?: number;
  /**
   * Spawns the command (shell: false) in its own process group, stdin/stdout/stderr piped.
   * Kill the whole group with `process.kill(-child.pid, signal)`.
   */
  spawn(spec: SandboxSpec): ChildProcess;
}

export interface BubblewrapLauncherOptions {
  mode: 'bubblewrap';
  /** @default '/usr/bin/bwrap' */
  bwrapPath?: string;
  /** @default '/usr/bin/setpriv' */
  setprivPath?: string;
  /** @default '/usr/bin/prlimit' */
  prlimitPath?: string;
  /**
   * Host uids handed out one per live process (gid = uid), so RLIMIT_NPROC counts each
   * sandbox separately and one fork bomb cannot starve the others. Use `{ first: 65534,
   * count: 1 }` to run everything as nobody.
   * @default { first: 200000, count: 10000 }
   */
  uids?: { first: number; count: number };
  /**
   * A host group every sandbox process holds besides its own: `builds/` belongs to it (0710), so
   * sandboxed evaluators reach their builds and other host users do not. No host user should be
   * a member. @default 199999
   */
  fileGroup?: number;
}

export interface InsecureLocalLauncherOptions {
  /** No isolation at all: same user, same file system, same network. Only rlimits and env. */
  mode: 'insecure-local';
  /** @default '/usr/bin/prlimit' */
  prlimitPath?: string;
}

export type SandboxLauncherOptions = BubblewrapLauncherOptions | InsecureLocalLauncherOptions;
