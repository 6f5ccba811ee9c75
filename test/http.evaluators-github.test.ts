import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from './support/server.js';

const scoring = (score: number) =>
  ['def evaluate(messages, ground_truth=None, tools=None, **kwargs):', `    return {"score": ${score}, "reason": "version ${score}"}`, ''].join('\n');

/** A real repository at `<parent>/acme-org/graders`, served to the server through a file:// base URL. */
function makeRepository(parent: string): { commit: (files: Record<string, string>, message: string) => string } {
  const dir = join(parent, 'acme-org', 'graders');
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
      cwd: dir,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: parent, GIT_CONFIG_NOSYSTEM: '1' },
      encoding: 'utf8',
    }).trim();
  git('init', '--quiet', '--initial-branch', 'main');
  return {
    commit(files, message) {
      for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
      git('add', '--all');
      git('commit', '--quiet', '-m', message);
      return git('rev-parse', 'HEAD');
    },
  };
}

describe('evaluators whose source is a git commit', () => {
  let t: TestServer;
  let parent: string;
  let first: string;
  let second: string;
  const base = () => `/v1/accounts/${t.accountId}/evaluators`;
  const settled = (e: Record<string, unknown>) => e['state'] === 'ACTIVE' || e['state'] === 'BUILD_FAILED';
  const github = (id: string, commitHash: string, repository = 'acme-org/graders') => ({
    evaluatorId: id,
    evaluator: { commitHash, source: { type: 'TYPE_GITHUB', githubRepositoryName: repository } },
  });

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'tally-git-repos-'));
    const repo = makeRepository(parent);
    first = repo.commit({ 'main.py': scoring(1), 'requirements.txt': '' }, 'first');
    second = repo.commit({ 'main.py': scoring(0.5) }, 'second');
    t = await startTestServer('sqlite', { gitBaseUrl: `file://${parent}` });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(parent, { recursive: true, force: true });
  });

  async function create(body: object) {
    const created = await t.call('POST', `/v1/accounts/${t.accountId}/evaluatorsV2`, { body });
    expect(created.status, created.text).toBe(200);
    expect(created.json['state']).toBe('BUILDING');
    return waitFor(t, `${base()}/${(body as { evaluatorId: string }).evaluatorId}`, settled);
  }

  async function builtSource(id: string): Promise<string> {
    const record = await t.server.store.evaluators.get(t.accountId, id);
    return readFileSync(join(record!.buildDir, 'src', 'main.py'), 'utf8');
  }

  async function buildLog(id: string): Promise<string> {
    const endpoint = await t.call('GET', `${base()}/${id}:getBuildLogEndpoint`);
    return (await t.call('GET', endpoint.json['buildLogSignedUri'] as string, { key: null })).text;
  }

  it('builds to ACTIVE at the given commit, and at a newer commit after a PATCH', async () => {
    const done = await create(github('from-git', first));
    expect(done, JSON.stringify(done)).toMatchObject({ state: 'ACTIVE', commitHash: first, source: { type: 'TYPE_GITHUB', githubRepositoryName: 'acme-org/graders' } });
    expect(await builtSource('from-git')).toContain('"score": 1');
    expect(await buildLog('from-git')).toContain(`(commit ${first})`);

    const patched = await t.call('PATCH', `${base()}/from-git`, { body: { commitHash: second } });
    expect(patched.json['state']).toBe('BUILDING');
    expect(await waitFor(t, `${base()}/from-git`, settled)).toMatchObject({ state: 'ACTIVE', commitHash: second });
    expect(await builtSource('from-git')).toContain('"score": 0.5');
    expect(await buildLog('from-git')).toContain(`(commit ${second})`);
  });

  it('builds from a branch name and from an abbreviated sha (which needs the full fetch)', async () => {
    expect(await create(github('by-branch', 'main'))).toMatchObject({ state: 'ACTIVE' });
    expect(await buildLog('by-branch')).toContain(`(commit ${second})`);
    expect(await create(github('by-short-sha', first.slice(0, 8)))).toMatchObject({ state: 'ACTIVE' });
    expect(await buildLog('by-short-sha')).toContain('fetching every branch and tag');
    expect(await builtSource('by-short-sha')).toContain('"score": 1');
  });

  it('fails the build with a message naming the repository, the commit and git\'s error', async () => {
    const unknown = 'f'.repeat(40);
    const failed = await create(github('unknown-commit', unknown));
    expect(failed).toMatchObject({ state: 'BUILD_FAILED', status: { code: 'FAILED_PRECONDITION' } });
    expect((failed['status'] as { message: string }).message).toBe(`source: could not fetch acme-org/graders at ${unknown}: no commit "${unknown}" in the repository`);

    const missing = await create(github('missing-repo', first, 'acme-org/nothing'));
    expect((missing['status'] as { message: string }).message).toMatch(/^source: could not fetch acme-org\/nothing at [0-9a-f]{40}: fatal: .*does not appear to be a git repository/);
  });

  it('refuses a bad repository name or a missing commit with 400 naming the field', async () => {
    const cases = [
      [github('bad-name', first, 'not-a-repo'), 'source.githubRepositoryName'],
      [github('bad-name', first, '../escape'), 'source.githubRepositoryName'],
      [github('bad-name', first, 'owner/repo;rm -rf'), 'source.githubRepositoryName'],
      [github('bad-name', ''), 'commitHash: required'],
      [github('bad-name', '--upload-pack=evil'), 'commitHash'],
    ] as const;
    for (const [body, field] of cases) {
      const response = await t.call('POST', `/v1/accounts/${t.accountId}/evaluatorsV2`, { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json['message']).toContain(field);
    }
    expect((await t.call('GET', `${base()}/bad-name`)).status).toBe(404);
    const patch = await t.call('PATCH', `${base()}/from-git`, { body: { source: { type: 'TYPE_GITHUB', githubRepositoryName: 'nope' } } });
    expect(patch.status).toBe(400);
  });
});
