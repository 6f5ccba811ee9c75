import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonlFile, startTestServer, type TestServer } from './support/server.js';

const BIN = resolve(import.meta.dirname, '../bin/tally');

const EVALUATE = [
  'def evaluate(messages, ground_truth=None, tools=None, **kwargs):',
  '    answer = messages[-1]["content"]',
  '    if answer == "boom":',
  '        raise ValueError("cannot score boom")',
  '    ok = float(answer == ground_truth)',
  '    return {"score": ok, "reason": "exact match" if ok else "mismatch", "metrics": {"exact": {"score": ok, "reason": "", "is_score_valid": True}}}',
  '',
].join('\n');

const row = (i: number, answer = String(i % 2 === 0 ? i : i + 1)) => ({
  messages: [{ role: 'user', content: `echo ${i}` }, { role: 'assistant', content: answer }],
  ground_truth: String(i),
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real binary with a clean environment: only what the test passes reaches it. */
function tally(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TALLY_|FIREWORKS_)/.test(k)));
  return new Promise((done) => {
    execFile(BIN, args, { env: { ...inherited, ...env }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

function evaluatorFolder(parent: string, name: string, files: Record<string, string>): string {
  const dir = join(parent, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('the tally client commands against a real server', { timeout: 180_000 }, () => {
  let t: TestServer;
  let work: string;
  let env: Record<string, string>;
  const run = (...args: string[]) => tally(args, env);

  beforeAll(async () => {
    // The exact-match evaluator is trivial: cache its rows all the same (scoreCacheMinRowMs), for the cache test.
    t = await startTestServer('sqlite', { workerSlots: 2, scoreCacheMinRowMs: 0 });
    work = mkdtempSync(join(tmpdir(), 'tally-cli-'));
    env = { HOME: join(work, 'home'), TALLY_BASE_URL: t.url, TALLY_API_KEY: t.key };
    writeFileSync(join(work, 'math.jsonl'), jsonlFile(Array.from({ length: 30 }, (_, i) => row(i))));
  });
  afterAll(async () => {
    await t.close();
  });

  it('uploads, lists, gets and downloads a dataset byte for byte', async () => {
    const upload = await run('dataset', 'upload', join(work, 'math.jsonl'), '--id', 'math');
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stdout).toMatch(/state\s+READY/);
    expect(upload.stdout).toMatch(/rows\s+30/);
    expect(upload.stderr).toContain('uploading math.jsonl');
    const list = await run('dataset', 'list');
    expect(list.stdout).toMatch(/^ID\s+STATE/);
    expect(list.stdout).toMatch(/math\s+READY\s+30/);
    const got = await run('dataset', 'get', 'math', '--json');
    expect(JSON.parse(got.stdout)).toMatchObject({ name: `accounts/${t.accountId}/datasets/math`, state: 'READY', exampleCount: '30' });
    const target = join(work, 'copy.jsonl');
    expect((await run('dataset', 'download', 'math', '-o', target)).code).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe(readFileSync(join(work, 'math.jsonl'), 'utf8'));
    expect((await run('dataset', 'download', 'math')).stdout).toBe(readFileSync(join(work, 'math.jsonl'), 'utf8'));
    const listed = JSON.parse((await run('dataset', 'list', '--json')).stdout) as { datasets: { name: string }[] };
    expect(listed.datasets.map((d) => d.name)).toContain(`accounts/${t.accountId}/datasets/math`);
  });

  it('refuses a bad JSONL file with the server\'s line-numbered message', async () => {
    writeFileSync(join(work, 'broken.jsonl'), '{"a": 1}\nnot json\n');
    const upload = await run('dataset', 'upload', join(work, 'broken.jsonl'));
    expect(upload.code).toBe(1);
    expect(upload.stderr).toMatch(/tally: .*line 2/);
  });

  it('creates an evaluator from a folder, honouring .gitignore, to ACTIVE', async () => {
    const dir = evaluatorFolder(work, 'exact', {
      'main.py': EVALUATE,
      'requirements.txt': '',
      '.gitignore': 'build/\n*.log\n',
      'build/junk.py': 'x = 1\n',
      'notes.log': 'ignored',
      '__pycache__/main.cpython-311.pyc': 'x',
    });
    const created = await run('evaluator', 'create', dir);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/state\s+ACTIVE/);
    expect(created.stderr).toContain('packed 3 file(s)');
    const listed = await run('evaluator', 'list');
    expect(listed.stdout).toMatch(/exact\s+ACTIVE/);
    expect((await run('evaluator', 'logs', 'exact')).stdout).toContain('build succeeded');
    expect(JSON.parse((await run('evaluator', 'get', 'exact', '--json')).stdout)).toMatchObject({ state: 'ACTIVE' });
  });

  it('exits 1 and prints the status and build log when the build fails', async () => {
    const dir = evaluatorFolder(work, 'broken', { 'main.py': 'def evaluate(messages, **kw):\n    return 1 +\n' });
    const created = await run('evaluator', 'create', dir, '--id', 'broken');
    expect(created.code).toBe(1);
    expect(created.stderr).toContain('BUILD_FAILED');
    expect(created.stderr).toMatch(/status: SyntaxError in main.py, line 2/);
    expect(created.stderr).toContain('--- build log ---');
    expect(created.stderr).toMatch(/tally: evaluator broken failed to build/);
  });

  it('runs a job with --watch to a metrics table, then prints the worst results as CSV', async () => {
    const watched = await run('job', 'create', '--evaluator', 'exact', '--dataset', 'math', '--id', 'first', '--watch');
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stderr).toContain('job first: COMPLETED');
    expect(watched.stdout).toMatch(/state\s+COMPLETED/);
    expect(watched.stdout).toMatch(/score\s+0\.5000\s+\(95% CI/);
    expect(watched.stdout).toMatch(/valid rate\s+100\.0%/);
    expect(watched.stdout).toMatch(/exact\s+0\.5000/);
    const csv = await run('job', 'results', 'first', '--worst', '3', '--format', 'csv');
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('index,score,is_score_valid,error_kind,ms,reason');
    expect(lines).toHaveLength(4);
    for (const line of lines.slice(1)) expect(line).toMatch(/^\d+,0,true,,[\d.]+,mismatch$/);
    const jsonl = await run('job', 'results', 'first', '--format', 'jsonl');
    expect(jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as { index: number }).map((r) => r.index)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const got = JSON.parse((await run('job', 'get', 'first', '--json')).stdout) as { progress: { rowsDone: number } };
    expect(got.progress.rowsDone).toBe(30);
    expect((await run('job', 'list')).stdout).toMatch(/first\s+COMPLETED\s+exact\s+math\s+30\/30/);
  });

  it('says how many rows the score cache answered, and --no-cache scores every row again', async () => {
    expect((await run('job', 'create', '--evaluator', 'exact', '--dataset', 'math', '--id', 'cold', '--watch')).code).toBe(0);
    const warm = await run('job', 'create', '--evaluator', 'exact', '--dataset', 'math', '--id', 'warm', '--watch');
    expect(warm.code, warm.stderr).toBe(0);
    expect(warm.stdout).toMatch(/progress\s+30\/30 rows, 0 errors, 30 from the score cache/);
    const fresh = await run('job', 'create', '--evaluator', 'exact', '--dataset', 'math', '--id', 'fresh', '--no-cache', '--watch');
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toMatch(/progress\s+30\/30 rows, 0 errors\n/);
    const got = JSON.parse((await run('job', 'get', 'fresh', '--json')).stdout) as { settings: { cache: boolean }; progress: { rowsCached: number } };
    expect(got).toMatchObject({ settings: { cache: false }, progress: { rowsCached: 0 } });
  });

  it('prints the server\'s message and exits 1 for a bad job; usage errors exit 2', async () => {
    const missing = await run('job', 'create', '--evaluator', 'exact', '--dataset', 'ghost');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tally: evaluationJob\.inputDataset: dataset .*ghost.* not found/m);
    expect((await run('job', 'create', '--dataset', 'math')).code).toBe(2);
    expect((await run('dataset', 'get')).code).toBe(2);
    expect((await run('job', 'results', 'first', '--format', 'xml')).code).toBe(2);
    expect((await run('nonsense')).code).toBe(2);
    const cancelled = await run('job', 'cancel', 'first');
    expect(cancelled.code).toBe(1);
  });

  it('logs in, writing a 0600 profile that later commands use', async () => {
    const home = join(work, 'login-home');
    const login = await tally(['login', '--base-url', t.url, '--api-key', t.key], { HOME: home });
    expect(login.code, login.stderr).toBe(0);
    const profile = join(home, '.tally', 'profile.json');
    expect(statSync(profile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(profile, 'utf8'))).toEqual({ baseUrl: t.url, apiKey: t.key, accountId: t.accountId });
    expect((await tally(['dataset', 'list'], { HOME: home })).stdout).toContain('math');
    // Flags beat the environment, which beats the profile.
    expect((await tally(['dataset', 'list'], { HOME: home, TALLY_API_KEY: 'not-a-key' })).code).toBe(1);
    expect((await tally(['dataset', 'list', '--api-key', t.key], { HOME: home, TALLY_API_KEY: 'not-a-key' })).code).toBe(0);
    const bad = await tally(['login', '--base-url', t.url, '--api-key', 'wrong-wrong-wrong'], { HOME: home });
    expect(bad.code).toBe(1);
  });

  it('`tally eval DIR DATA.jsonl` runs everything on a throwaway in-process server', async () => {
    const dir = evaluatorFolder(work, 'local-exact', { 'main.py': EVALUATE });
    const data = join(work, 'mixed.jsonl');
    writeFileSync(data, jsonlFile(Array.from({ length: 12 }, (_, i) => row(i, i === 3 ? 'boom' : String(i)))));
    const result = await tally(['eval', dir, data], { HOME: join(work, 'home'), TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs') });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^METRIC\s+VALUE/);
    expect(result.stdout).toMatch(/score\s+1\s+\(95% CI 1 \.\. 1\)/);
    expect(result.stdout).toMatch(/errors\s+1/);
    expect(result.stdout).toMatch(/valid rate\s+91\.7%/);
    expect(result.stderr).toMatch(/evaluator local-exact: ACTIVE/);
  });
});
