import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { filesToPack, isIgnored, packDirectory, parseGitignore } from '../src/cli/pack.js';

function folder(files: Record<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tally-pack-test-')), 'proj');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

async function members(archive: string): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    names.push(header.name);
    stream.on('end', next).resume();
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve).on('error', reject);
    createReadStream(archive).pipe(createGunzip()).pipe(extract);
  });
  return names;
}

describe('packing an evaluator folder', () => {
  it('reads the simple .gitignore patterns: names, *.ext, dir/, anchored paths, comments', () => {
    const rules = parseGitignore('# comment\nsecret.txt\n*.log\nout/\n/data/raw\n!keep.log\n');
    expect(isIgnored(rules, 'secret.txt', false)).toBe(true);
    expect(isIgnored(rules, 'sub/secret.txt', false)).toBe(true);
    expect(isIgnored(rules, 'a/b.log', false)).toBe(true);
    expect(isIgnored(rules, 'out', true)).toBe(true);
    expect(isIgnored(rules, 'out', false)).toBe(false);
    expect(isIgnored(rules, 'data/raw', true)).toBe(true);
    expect(isIgnored(rules, 'other/data/raw', true)).toBe(false);
    expect(isIgnored(rules, 'main.py', false)).toBe(false);
  });

  it('skips .git, __pycache__, .venv, node_modules and ignored files; prefixes members with the folder name', async () => {
    const dir = folder({
      'main.py': 'x', 'requirements.txt': '', 'lib/util.py': 'y', '.gitignore': '*.log\nbuild/\n',
      'run.log': '', 'build/a.py': '', '.git/HEAD': '', '__pycache__/m.pyc': '', '.venv/bin/python': '', 'node_modules/x/index.js': '', 'lib/__pycache__/u.pyc': '',
    });
    expect(filesToPack(dir)).toEqual(['.gitignore', 'lib/util.py', 'main.py', 'requirements.txt']);
    const archive = join(dir, '..', 'proj.tar.gz');
    await packDirectory(dir, archive);
    expect(await members(archive)).toEqual(['proj/', 'proj/.gitignore', 'proj/lib/util.py', 'proj/main.py', 'proj/requirements.txt']);
  });
});
