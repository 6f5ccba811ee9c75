/**
 * Evaluator source from a git commit (`source.type: TYPE_GITHUB`): one commit of one repository
 * fetched into the build's `src` directory, then laid out like an unpacked archive.
 *
 * git runs on the host (not in the sandbox) but with an empty environment: no credentials, no
 * user or system config, no prompts. The checkout is made with `core.symlinks=false`, so a link
 * in the repository becomes a small text file and can never point the build at a server file.
 */
import { spawn } from 'node:child_process';
import { chmod, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failedPrecondition } from '../domain/errors.js';
import { githubSourceProblem } from '../domain/evaluators.js';
import { DEFAULT_UNPACK_LIMITS, formatBytes } from './unpack-limits.js';

export interface GitSourceOptions {
  /** `https://github.com`, or `file:///some/dir` in tests: the repository is `<base>/<owner>/<repo>`. */
  baseUrl: string;
  repository: string;
  commit: string;
  destination: string;
  log: (line: string) => void;
  /** For the whole fetch and checkout. @default 120000 */
  timeoutMs?: number;
  /** Largest checkout, in bytes and files. @default the archive limits */
  maxBytes?: number;
  maxFiles?: number;
}

/** Why a fetch by sha can fail where a full fetch would work: the server refuses unadvertised objects, or the name is short. */
const REFUSED_BY_SHA = /not our ref|unadvertised object|allowReachableSHA1InWant|couldn't find remote ref/i;
const NOT_A_REPOSITORY = /does not appear to be a git repository|repository .* not found/i;

class GitError extends Error {}

/** Fetches `repository` at `commit` into `destination` (which exists and is empty) and drops `.git`. */
export async function fetchGitSource(options: GitSourceOptions): Promise<{ root: string; commit: string }> {
  // Checked on create too; again here because the URL and git's arguments are built from them.
  const problem = githubSourceProblem({ source: { type: 'TYPE_GITHUB', githubRepositoryName: options.repository }, commitHash: options.commit });
  if (problem) throw failedPrecondition(problem);
  const home = await mkdtemp(join(tmpdir(), 'tally-git-'));
  const git = gitRunner(options.destination, home, Date.now() + (options.timeoutMs ?? 120_000));
  const limits = { maxBytes: options.maxBytes ?? DEFAULT_UNPACK_LIMITS.maxTotalBytes, maxFiles: options.maxFiles ?? DEFAULT_UNPACK_LIMITS.maxFiles };
  try {
    const url = await fetchCommit({ git, limits, log: options.log }, repositoryUrl(options.baseUrl, options.repository), options.commit);
    const resolved = (await git(['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
    options.log(`fetched ${url} at ${options.commit} (commit ${resolved})`);
    await rm(join(options.destination, '.git'), { recursive: true, force: true });
    const { files, bytes } = await normaliseTree(options.destination);
    options.log(`checked out ${files} files, ${bytes} bytes`);
    return { root: options.destination, commit: resolved };
  } catch (error: unknown) {
    if (!(error instanceof GitError)) throw error;
    throw failedPrecondition(`source: could not fetch ${options.repository} at ${options.commit}: ${error.message}`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

export function repositoryUrl(baseUrl: string, repository: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${repository}`;
}

type Git = (args: string[]) => Promise<string>;
interface FetchContext {
  git: Git;
  limits: { maxBytes: number; maxFiles: number };
  log: (line: string) => void;
}

/**
 * A shallow fetch of just that commit; when the server will not serve a commit by sha (or the
 * name is an abbreviated sha), every branch and tag instead. Checked for size before checkout.
 */
async function fetchCommit({ git, limits, log }: FetchContext, baseUrl: string, commit: string): Promise<string> {
  await git(['init', '--quiet']);
  let url = baseUrl;
  try {
    url = await fetchWithSuffixRetry(git, url, ['fetch', '--quiet', '--depth', '1', '--no-tags'], [commit]);
    await checkTreeSize(git, 'FETCH_HEAD', limits);
    await git(['checkout', '--quiet', '--detach', 'FETCH_HEAD']);
    return url;
  } catch (error: unknown) {
    if (!(error instanceof GitError) || !REFUSED_BY_SHA.test(error.message)) throw error;
    log(`the server would not send ${commit} alone (${error.message}); fetching every branch and tag`);
  }
  url = await fetchWithSuffixRetry(git, url, ['fetch', '--quiet', '--tags', '--update-head-ok'], ['+refs/heads/*:refs/heads/*']);
  const resolved = (await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${commit}^{commit}`]).catch(() => '')).trim();
  if (resolved === '') throw new GitError(`no commit "${commit}" in the repository`);
  await checkTreeSize(git, resolved, limits);
  await git(['checkout', '--quiet', '--detach', resolved]);
  return url;
}

/** `<base>/owner/repo` first, as GitHub serves it; `owner/repo.git` when that is not a repository (bare mirrors). */
async function fetchWithSuffixRetry(git: Git, url: string, command: string[], refspecs: string[]): Promise<string> {
  try {
    await git([...command, '--', url, ...refspecs]);
    return url;
  } catch (error: unknown) {
    if (!(error instanceof GitError) || !NOT_A_REPOSITORY.test(error.message) || url.endsWith('.git')) throw error;
    await git([...command, '--', `${url}.git`, ...refspecs]);
    return `${url}.git`;
  }
}

/** Refuses an oversized tree from its listing, before a byte of it is written. */
async function checkTreeSize(git: Git, treeish: string, { maxBytes, maxFiles }: FetchContext['limits']): Promise<void> {
  const listing = await git(['ls-tree', '-r', '-l', '-z', treeish]);
  let files = 0;
  let bytes = 0;
  for (const entry of listing.split('\0')) {
    const size = /^\d+ blob [0-9a-f]+ +(\d+)\t/.exec(entry)?.[1];
    if (size === undefined) continue;
    files++;
    bytes += Number(size);
  }
  if (files > maxFiles) throw new GitError(`the commit has ${files} files, more than the limit of ${maxFiles}`);
  if (bytes > maxBytes) throw new GitError(`the commit holds ${formatBytes(bytes)}, more than the limit of ${formatBytes(maxBytes)}`);
}

/** Sandboxed builds run as another uid: every file must be readable and every directory enterable, whatever the umask. */
async function normaliseTree(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  await chmod(dir, 0o755);
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory()) {
      const inner = await normaliseTree(path);
      files += inner.files;
      bytes += inner.bytes;
    } else if (info.isFile()) {
      await chmod(path, 0o644);
      files++;
      bytes += info.size;
    }
  }
  return { files, bytes };
}

/** Runs git in `cwd` with nothing from the server's environment; all calls share one deadline. */
function gitRunner(cwd: string, home: string, deadline: number): Git {
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    LC_ALL: 'C',
  };
  const config = ['-c', 'core.symlinks=false', '-c', 'credential.helper=', '-c', 'core.hooksPath=/dev/null', '-c', 'advice.detachedHead=false'];
  return (args) => runGit(args[0] ?? '', [...config, ...args], { cwd, env, timeoutMs: Math.max(1, deadline - Date.now()) });
}

function runGit(name: string, args: string[], options: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also ends the transport helpers git starts.
    const child = spawn('git', args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString('utf8')).slice(-16_384)));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new GitError(`git could not be started (${error.message}); install git on the server`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return reject(new GitError(`git ${name} did not finish in time`));
      if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
      reject(new GitError(lastErrorLine(stderr) || `git exited with status ${String(code)}`));
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * git ends many failures with advice ("Please make sure you have...") or a generic line after the
 * cause; the last `fatal:`/`error:` line that says something specific is the one to show.
 */
export function lastErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const errors = lines.filter((l) => /^(fatal|error):/.test(l) && !/Could not read from remote repository/.test(l));
  return (errors.length > 0 ? errors[errors.length - 1]! : lines[lines.length - 1] ?? '').slice(0, 500);
}
