import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { prlimitArgs, stdioFor } from './rlimits.js';
import { createUidAllocator, type UidAllocator } from './uid-allocator.js';
import type { BubblewrapLauncherOptions, SandboxLauncher, SandboxSpec } from './types.js';

const DEFAULT_TMP_BYTES = 64 * 1024 * 1024;
/** Top-level names that on merged-/usr systems are symlinks into /usr (or real dirs elsewhere). */
const ROOT_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Public TLS material only: /etc/ssl/private stays out of the box. */
const TLS_PATHS = ['/etc/ssl/certs', '/etc/ssl/openssl.cnf', '/etc/ca-certificates.conf'];
const NETWORK_PATHS = ['/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf', '/etc/gai.conf'];

export interface BubblewrapPaths {
  bwrap: string;
  setpriv: string;
  prlimit: string;
}

export interface BoxIdentity {
  uid: number;
  gid: number;
  /** Supplementary groups (the file group that may read builds/); none when absent. */
  groups?: readonly number[];
}

/** Mirrors the host's /bin, /lib... : a symlink stays a symlink, a directory is bound read-only. */
export function rootLinkArgs(): string[] {
  const args: string[] = [];
  for (const path of ROOT_LINKS) {
    if (!existsSync(path)) continue;
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (stat.isDirectory()) args.push('--ro-bind', path, path);
  }
  return args;
}

function bindIfPresent(paths: string[]): string[] {
  return paths.filter((p) => existsSync(p)).flatMap((p) => ['--ro-bind', p, p]);
}

/** The fd (in bwrap) its environment arrives on: the first one after stdio and the extra pipes. */
export function envFdOf(spec: SandboxSpec): number {
  return 3 + (spec.extraFds ?? 0);
}

/**
 * The `--setenv KEY VALUE` pairs as bwrap's `--args FD` reads them (NUL-terminated arguments).
 * The environment holds the account's secrets, so it never goes in an argv: every user of the
 * host can read a process's arguments (/proc/PID/cmdline), and bwrap is pid 1 of the box.
 */
export function envArgsData(env: Record<string, string>): Buffer {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (key === '' || key.includes('=') || key.includes('\0') || value.includes('\0')) {
      throw new RangeError(`sandbox environment variable ${JSON.stringify(key)} cannot be set (empty, or holds '=' or NUL)`);
    }
    parts.push('--setenv', key, value);
  }
  return Buffer.from(parts.map((part) => `${part}\0`).join(''), 'utf8');
}

/**
 * The bwrap part of the argv: namespaces, file system view. Pure but for fs checks. The
 * environment is not in it: bwrap reads it from fd `envFdOf(spec)` (see `envArgsData`).
 */
export function bwrapArgs(spec: SandboxSpec, bwrapPath: string): string[] {
  const args = [bwrapPath, '--unshare-all', '--unshare-user', '--disable-userns'];
  if (spec.network) args.push('--share-net');
  args.push('--cap-drop', 'ALL', '--new-session', '--die-with-parent', '--clearenv');
  args.push('--args', String(envFdOf(spec)));
  args.push('--ro-bind', '/usr', '/usr', ...rootLinkArgs(), ...bindIfPresent(TLS_PATHS));
  if (spec.network) args.push(...bindIfPresent(NETWORK_PATHS));
  args.push('--size', String(spec.tmpBytes ?? DEFAULT_TMP_BYTES), '--tmpfs', '/tmp');
  args.push('--proc', '/proc', '--dev', '/dev');
  for (const path of spec.readOnlyBinds) args.push('--ro-bind', path, path);
  for (const path of spec.writableBinds ?? []) args.push('--bind', path, path);
  args.push('--remount-ro', '/', '--chdir', spec.cwd, '--');
  return [...args, ...spec.command];
}

/**
 * Full argv: prlimit (rlimits) -> setpriv (drop to an unprivileged HOST uid, so file
 * permissions and RLIMIT_NPROC really apply; `bwrap --uid` alone maps back to root) -> bwrap.
 */
export function bubblewrapArgv(spec: SandboxSpec, paths: BubblewrapPaths, who: BoxIdentity): string[] {
  if (spec.command.length === 0) throw new RangeError('sandbox command is empty');
  const setpriv = [
    paths.setpriv,
    `--reuid=${who.uid}`,
    `--regid=${who.gid}`,
    who.groups && who.groups.length > 0 ? `--groups=${who.groups.join(',')}` : '--clear-groups',
    '--',
  ];
  return [paths.prlimit, ...prlimitArgs(spec.limits), ...setpriv, ...bwrapArgs(spec, paths.bwrap)];
}

/** Writes the environment to bwrap's `--args` pipe and closes it: bwrap reads to EOF at start. */
function sendEnvironment(child: ChildProcess, fd: number, data: Buffer): void {
  const pipe = child.stdio[fd] as Duplex | null | undefined;
  if (!pipe) return; // spawn failed: the 'error' event tells the caller
  pipe.on('error', () => undefined); // bwrap that died at once: its exit code tells the caller
  pipe.resume(); // nothing comes back, but its EOF must be read for the child's 'close' to fire
  pipe.end(data);
}

/** Just below the default uid range: a group no host user is in. */
const DEFAULT_FILE_GROUP = 199_999;

export function createBubblewrapLauncher(options: BubblewrapLauncherOptions): SandboxLauncher {
  const paths: BubblewrapPaths = {
    bwrap: options.bwrapPath ?? '/usr/bin/bwrap',
    setpriv: options.setprivPath ?? '/usr/bin/setpriv',
    prlimit: options.prlimitPath ?? '/usr/bin/prlimit',
  };
  const uids: UidAllocator = createUidAllocator(options.uids ?? { first: 200_000, count: 10_000 });
  const fileGroup = options.fileGroup ?? DEFAULT_FILE_GROUP;
  return {
    mode: 'bubblewrap',
    isolated: true,
    fileGroup,
    spawn(spec: SandboxSpec): ChildProcess {
      const uid = uids.acquire();
      let child: ChildProcess;
      try {
        const envData = envArgsData(spec.env);
        const [file, ...args] = bubblewrapArgv(spec, paths, { uid, gid: uid, groups: [fileGroup] });
        child = spawn(file as string, args, {
          env: {},
          stdio: stdioFor((spec.extraFds ?? 0) + 1),
          detached: true,
          shell: false,
        });
        sendEnvironment(child, envFdOf(spec), envData);
      } catch (error) {
        uids.release(uid);
        throw error;
      }
      // The uid is free again only once the box is gone: bwrap's pid namespace dies with it.
      child.once('close', () => uids.release(uid));
      child.once('error', () => uids.release(uid));
      return child;
    },
  };
}
