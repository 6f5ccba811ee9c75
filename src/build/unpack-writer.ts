/**
 * Writes archive members into a fresh destination directory, enforcing the limits and the
 * path rules. It owns the destination (it must start empty), so it knows every path that exists
 * in it: that is what lets it refuse writes through links without racing the filesystem.
 */
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, realpath, stat, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  checkDeclaredSize,
  formatBytes,
  memberError,
  memberSegments,
  resolveLinkTarget,
  type UnpackLimits,
} from './unpack-limits.js';

type Kind = 'file' | 'dir' | 'symlink';

// O_EXCL also refuses to follow a symlink at the final component, O_NOFOLLOW says it twice.
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export class UnpackWriter {
  files = 0;
  bytes = 0;
  private members = 0;
  private readonly known = new Map<string, Kind>();
  private readonly symlinks = new Map<string, string>();

  constructor(
    private readonly destination: string,
    private readonly limits: UnpackLimits,
  ) {}

  /** Counts a member against maxFiles; returns its segments, or null for the root entry. */
  private admit(name: string): string[] | null {
    const segments = memberSegments(name, this.limits);
    if (segments === null) return null;
    this.members += 1;
    if (this.members > this.limits.maxFiles) {
      throw memberError(name, `the archive has more than ${this.limits.maxFiles} members`);
    }
    return segments;
  }

  checkDeclaredSize(name: string, size: number): void {
    checkDeclaredSize(name, size, this.bytes, this.limits);
  }

  async directory(name: string): Promise<void> {
    const segments = this.admit(name);
    if (segments === null) return;
    await this.ensureParents(name, segments, segments.length);
  }

  async file(name: string, content: AsyncIterable<Uint8Array>): Promise<void> {
    const segments = this.admit(name);
    if (segments === null) throw memberError(name, 'a file cannot replace the archive root');
    const target = await this.prepareLeaf(name, segments);
    const handle = await open(target, CREATE_FLAGS, 0o644);
    let fileBytes = 0;
    try {
      for await (const chunk of content) {
        fileBytes += chunk.length;
        this.bytes += chunk.length;
        this.checkStreamed(name, fileBytes);
        await handle.write(chunk);
      }
      await handle.chmod(0o644);
    } finally {
      await handle.close();
    }
    this.known.set(segments.join('/'), 'file');
    this.files += 1;
  }

  private checkStreamed(name: string, fileBytes: number): void {
    if (fileBytes > this.limits.maxFileBytes) {
      throw memberError(name, `is larger than the per-file limit of ${formatBytes(this.limits.maxFileBytes)} (stopped after ${fileBytes} bytes)`);
    }
    if (this.bytes > this.limits.maxTotalBytes) {
      throw memberError(name, `unpacked size passes the total limit of ${formatBytes(this.limits.maxTotalBytes)} (stopped after ${this.bytes} bytes)`);
    }
  }

  /**
   * Links may only point inside the destination. The lexical check here gives a clear message
   * early; `verifyLinks` re-checks physically once everything is written, which also catches
   * chains such as `a -> .` followed by `b -> a/..`.
   */
  async symlink(name: string, target: string): Promise<void> {
    const segments = this.admit(name);
    if (segments === null) throw memberError(name, 'a link cannot replace the archive root');
    if (target === '' || target.includes('\0')) throw memberError(name, 'symlink has an empty or invalid target');
    if (target.startsWith('/')) throw memberError(name, `symlink points to the absolute path ${JSON.stringify(target)}`);
    if (resolveLinkTarget(segments, target) === null) {
      throw memberError(name, `symlink target ${JSON.stringify(target)} points outside the archive`);
    }
    const leaf = await this.prepareLeaf(name, segments);
    await symlink(target, leaf);
    this.known.set(segments.join('/'), 'symlink');
    this.symlinks.set(name, leaf);
    this.files += 1;
  }

  /** Hard links become copies of a regular file written earlier from this same archive. */
  async hardlink(name: string, target: string): Promise<void> {
    const segments = this.admit(name);
    if (segments === null) throw memberError(name, 'a link cannot replace the archive root');
    let source: string[] | null;
    try {
      source = memberSegments(target, this.limits);
    } catch (error) {
      throw memberError(name, `hard link target ${JSON.stringify(target)} points outside the archive`, error);
    }
    if (source === null || this.known.get(source.join('/')) !== 'file') {
      throw memberError(name, `hard link target ${JSON.stringify(target)} is not a regular file earlier in the archive`);
    }
    const from = path.join(this.destination, ...source);
    const { size } = await stat(from);
    this.bytes += size;
    this.checkStreamed(name, size);
    const leaf = await this.prepareLeaf(name, segments);
    await copyFile(from, leaf, constants.COPYFILE_EXCL);
    await chmod(leaf, 0o644);
    this.known.set(segments.join('/'), 'file');
    this.files += 1;
  }

  /** Makes the parents of a leaf and clears an earlier member of the same name (tar semantics). */
  private async prepareLeaf(name: string, segments: string[]): Promise<string> {
    await this.ensureParents(name, segments, segments.length - 1);
    const key = segments.join('/');
    const leaf = path.join(this.destination, ...segments);
    const existing = this.known.get(key);
    if (existing === 'dir') throw memberError(name, 'conflicts with a directory of the same name');
    if (existing !== undefined) {
      await unlink(leaf);
      this.known.delete(key);
      for (const [member, at] of this.symlinks) if (at === leaf) this.symlinks.delete(member);
    }
    return leaf;
  }

  /** Creates the first `count` segments as directories, never through a link or a file. */
  private async ensureParents(name: string, segments: string[], count: number): Promise<void> {
    for (let i = 1; i <= count; i += 1) {
      const key = segments.slice(0, i).join('/');
      const existing = this.known.get(key);
      if (existing === 'dir') continue;
      if (existing === 'symlink') throw memberError(name, `path goes through the symlink ${JSON.stringify(key)}`);
      if (existing === 'file') throw memberError(name, `path goes through the file ${JSON.stringify(key)}`);
      const dir = path.join(this.destination, ...segments.slice(0, i));
      await mkdir(dir, { mode: 0o755 });
      // mkdir's mode is filtered by the umask; the sandbox uid must be able to read and enter.
      await chmod(dir, 0o755);
      this.known.set(key, 'dir');
    }
  }

  /** Physical check of every symlink once nothing more will be written. */
  async verifyLinks(): Promise<void> {
    const root = await realpath(this.destination);
    for (const [member, leaf] of this.symlinks) {
      let resolved: string;
      try {
        resolved = await realpath(leaf);
      } catch (error) {
        throw memberError(member, 'symlink is dangling or loops (its target is not in the archive)', error);
      }
      if (resolved !== root && !resolved.startsWith(root + path.sep)) {
        throw memberError(member, 'symlink resolves outside the archive');
      }
    }
  }

  /** The single top-level directory if every member lives under it, else the destination. */
  root(): string {
    const top = new Set<string>();
    for (const key of this.known.keys()) top.add(key.split('/')[0] ?? key);
    const [only] = top;
    if (top.size === 1 && only !== undefined && this.known.get(only) === 'dir') {
      return path.join(this.destination, only);
    }
    return this.destination;
  }
}
