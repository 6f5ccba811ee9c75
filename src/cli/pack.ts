import { createWriteStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

/** Never worth shipping to the server, whatever .gitignore says. */
const ALWAYS_SKIPPED = new Set(['.git', '__pycache__', '.venv', 'node_modules']);

/** One .gitignore rule, from the simple subset we honour: names, globs like `*.ext`, `dir/`. */
interface IgnoreRule {
  pattern: RegExp;
  directoryOnly: boolean;
  /** A pattern with a slash in it is matched against the path from the folder root. */
  anchored: boolean;
}

export function parseGitignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const directoryOnly = line.endsWith('/');
    line = line.replace(/\/+$/, '');
    const anchored = line.includes('/');
    line = line.replace(/^\/+/, '');
    const source = line.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
    rules.push({ pattern: new RegExp(`^${source}$`), directoryOnly, anchored });
  }
  return rules;
}

export function isIgnored(rules: IgnoreRule[], path: string, isDirectory: boolean): boolean {
  const name = basename(path);
  return rules.some((rule) => (!rule.directoryOnly || isDirectory) && rule.pattern.test(rule.anchored ? path : name));
}

/** The files to pack, relative to `dir`, sorted so the archive is reproducible. */
export function filesToPack(dir: string): string[] {
  const gitignore = join(dir, '.gitignore');
  const rules = existsSync(gitignore) ? parseGitignore(readFileSync(gitignore, 'utf8')) : [];
  const files: string[] = [];
  const walk = (relativeDir: string) => {
    const entries = readdirSync(join(dir, relativeDir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      if (ALWAYS_SKIPPED.has(entry.name)) continue;
      const isDirectory = entry.isDirectory();
      if (isIgnored(rules, path, isDirectory)) continue;
      if (isDirectory) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  walk('');
  return files;
}

/**
 * Packs `dir` into `target` (.tar.gz), every member under `<folder name>/`, as `ep upload` does;
 * the server strips that single top folder.
 */
export async function packDirectory(dir: string, target: string): Promise<{ files: string[]; bytes: number }> {
  const root = resolve(dir);
  const prefix = basename(root);
  const files = filesToPack(root);
  if (files.length === 0) throw new Error(`${dir}: nothing to pack (empty, or everything is ignored)`);
  const pack = tar.pack();
  const written = pipeline(pack, createGzip(), createWriteStream(target));
  pack.entry({ name: `${prefix}/`, type: 'directory', mode: 0o755 });
  for (const file of files) {
    const full = join(root, file);
    const mode = statSync(full).mode & 0o111 ? 0o755 : 0o644;
    await new Promise<void>((done, fail) => {
      pack.entry({ name: `${prefix}/${relative(root, full).split('\\').join('/')}`, mode }, readFileSync(full), (error) => (error ? fail(error) : done()));
    });
  }
  pack.finalize();
  await written;
  return { files, bytes: statSync(target).size };
}
