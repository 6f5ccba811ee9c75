import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../domain/errors.js';
import { fetchGitSource, lastErrorLine } from './git-source.js';

describe('fetchGitSource', () => {
  let parent: string;
  let sha: string;
  let n = 0;
  const destination = () => {
    const dir = join(parent, 'out', String(n++));
    mkdirSync(dir, { recursive: true });
    return dir;
  };

  beforeAll(() => {
    parent = mkdtempSync(join(tmpdir(), 'tally-git-unit-'));
    const repo = join(parent, 'o', 'r');
    mkdirSync(join(repo, 'pkg'), { recursive: true });
    writeFileSync(join(repo, 'pkg', 'main.py'), 'x = 1\n');
    symlinkSync('/etc/passwd', join(repo, 'link.py'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@e', ...args], { cwd: repo, env: { PATH: '/usr/bin:/bin', HOME: parent }, encoding: 'utf8' }).trim();
    git('init', '--quiet');
    git('add', '--all');
    git('commit', '--quiet', '-m', 'one');
    sha = git('rev-parse', 'HEAD');
  });
  afterAll(() => rmSync(parent, { recursive: true, force: true }));

  const fetch = (overrides: Partial<Parameters<typeof fetchGitSource>[0]> = {}) =>
    fetchGitSource({ baseUrl: `file://${parent}`, repository: 'o/r', commit: sha, destination: destination(), log: () => {}, ...overrides });

  it('checks out the commit without .git, links as plain files', async () => {
    const { root, commit } = await fetch();
    expect(commit).toBe(sha);
    expect(readFileSync(join(root, 'pkg', 'main.py'), 'utf8')).toBe('x = 1\n');
    expect(existsSync(join(root, '.git'))).toBe(false);
    expect(lstatSync(join(root, 'link.py')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(root, 'link.py'), 'utf8')).toBe('/etc/passwd');
  });

  it('refuses a checkout over the size or file limits before writing it', async () => {
    const out = destination();
    const error = await fetch({ destination: out, maxBytes: 5 }).catch((e: unknown) => e);
    expect(isApiError(error) && error.message).toMatch(/^source: could not fetch o\/r at [0-9a-f]+: the commit holds 17 bytes, more than the limit of 5 bytes$/);
    expect(existsSync(join(out, 'pkg'))).toBe(false);
    await expect(fetch({ maxFiles: 1 })).rejects.toThrow(/2 files, more than the limit of 1/);
  });

  it('gives up after the timeout', async () => {
    await expect(fetch({ timeoutMs: 1 })).rejects.toThrow(/did not finish in time/);
  });

  it('picks the specific error line from git', () => {
    expect(lastErrorLine("fatal: '/x' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure\n")).toBe(
      "fatal: '/x' does not appear to be a git repository",
    );
    expect(lastErrorLine('remote: Repository not found.\nfatal: repository \'https://h/x/\' not found\n')).toBe("fatal: repository 'https://h/x/' not found");
  });
});
