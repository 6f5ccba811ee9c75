/** File-tree fix-ups applied to a finished environment before it is published. */
import { chmod, lchown, lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A venv records its own path in its scripts (shebangs, activate) and pyvenv.cfg. It was built
 * under a temporary name, so those are pointed at the final one. The interpreter itself finds
 * its prefix from its location, so site-packages needs nothing.
 */
export async function rewritePrefix(dir: string, finalDir: string): Promise<void> {
  const bin = path.join(dir, 'bin');
  const names = await readdir(bin).catch(() => [] as string[]);
  const candidates = [...names.map((name) => path.join(bin, name)), path.join(dir, 'pyvenv.cfg')];
  for (const file of candidates) {
    const info = await lstat(file).catch(() => undefined);
    if (info === undefined || !info.isFile() || info.size > 1024 * 1024) continue;
    const content = await readFile(file);
    if (content.includes(0) || !content.includes(dir)) continue;
    await writeFile(file, content.toString('utf8').split(dir).join(finalDir));
  }
}

/**
 * Directories 0755, files 0644 (0755 when executable), nothing group- or world-writable, so
 * the sandbox uid can read the environment and cannot change it. When we run as root the
 * installer ran as a borrowed sandbox uid that is handed to other boxes later: ownership comes
 * back to us, or a later box with that uid could rewrite a shared environment.
 */
export async function hardenTree(root: string, owner: { uid: number; gid: number } | undefined = rootOwner()): Promise<void> {
  const pending = [root];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    const info = await lstat(current);
    if (owner !== undefined && (info.uid !== owner.uid || info.gid !== owner.gid)) {
      await lchown(current, owner.uid, owner.gid);
    }
    if (info.isSymbolicLink()) continue;
    if (info.isDirectory()) {
      if ((info.mode & 0o7777) !== 0o755) await chmod(current, 0o755);
      for (const name of await readdir(current)) pending.push(path.join(current, name));
      continue;
    }
    const wanted = info.mode & 0o111 ? 0o755 : 0o644;
    if ((info.mode & 0o7777) !== wanted) await chmod(current, wanted);
  }
}

function rootOwner(): { uid: number; gid: number } | undefined {
  return process.getuid?.() === 0 ? { uid: 0, gid: 0 } : undefined;
}
