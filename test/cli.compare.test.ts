import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonlFile, multipartBody, startTestServer, waitFor, type TestServer } from './support/server.js';

const BIN = resolve(import.meta.dirname, '../bin/tally');
const evaluator = (field: string) => `def evaluate(messages, ground_truth=None, tools=None, **kwargs):\n    return {"score": float(kwargs["${field}"]), "reason": "given"}\n`;
/** Row 2 regresses (1 -> 0), rows 5 and 7 improve (0 -> 1), the rest stay. */
const scores = Array.from({ length: 12 }, (_, i) => ({ a: i === 2 || i % 3 === 0 ? 1 : 0, b: i === 5 || i === 7 || (i % 3 === 0 && i !== 2) ? 1 : 0 }));

function tally(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TALLY_|FIREWORKS_)/.test(k)));
  return new Promise((done) => {
    execFile(BIN, args, { env: { ...inherited, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('tally job compare against a real server', { timeout: 180_000 }, () => {
  let t: TestServer;
  let env: Record<string, string>;
  const run = (...args: string[]) => tally(args, env);

  beforeAll(async () => {
    t = await startTestServer('sqlite', { workerSlots: 2 });
    env = { HOME: join(mkdtempSync(join(tmpdir(), 'tally-cli-compare-')), 'home'), TALLY_BASE_URL: t.url, TALLY_API_KEY: t.key };
    const a = `/v1/accounts/${t.accountId}`;
    for (const field of ['a', 'b']) {
      await t.call('POST', `${a}/evaluatorsV2`, { body: { evaluatorId: `by-${field}`, evaluator: { criteria: [{ name: 'pick', codeSnippets: { language: 'python', fileContents: { 'main.py': evaluator(field) } } }] } } });
      await waitFor(t, `${a}/evaluators/by-${field}`, (e) => e['state'] === 'ACTIVE');
    }
    await t.call('POST', `${a}/datasets`, { body: { dataset: {}, datasetId: 'rows' } });
    await t.call('POST', `${a}/datasets/rows:upload`, { body: multipartBody(jsonlFile(scores.map((s, i) => ({ messages: [{ role: 'user', content: `q${i}` }], ...s })))) });
    for (const field of ['a', 'b']) {
      await t.call('POST', `${a}/evaluationJobs`, { body: { evaluationJobId: `job-${field}`, evaluationJob: { evaluator: `by-${field}`, inputDataset: 'rows', outputDataset: `out-${field}` } } });
      await waitFor(t, `${a}/evaluationJobs/job-${field}`, (j) => j['state'] === 'JOB_STATE_COMPLETED');
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('prints the summary and a table, regressions first', async () => {
    const out = await run('job', 'compare', 'job-a', 'job-b');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/rows\s+12: regressed 1, improved 2, unchanged 9/);
    expect(out.stdout).toContain('mcnemar-exact');
    const lines = out.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('STATUS'));
    expect(lines[header + 1]).toMatch(/^regressed\s+2\s+1\s+0\s+-1/);
    expect(lines.slice(header + 2, header + 11).every((l) => l.startsWith('unchanged'))).toBe(true);
    expect(lines[header + 11]).toMatch(/^improved\s+5/);
  });

  it('writes every compared row as CSV or JSONL, and filters by status', async () => {
    const csv = await run('job', 'compare', 'job-a', 'job-b', '--format', 'csv', '--status', 'changed');
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.trim().split('\n')).toEqual([
      'status,key,baseline_index,candidate_index,baseline_score,candidate_score,diff,baseline_error,candidate_error',
      'regressed,,2,2,1,0,-1,,', 'improved,,5,5,0,1,1,,', 'improved,,7,7,0,1,1,,',
    ]);
    const jsonl = await run('job', 'compare', 'job-a', 'job-b', '--format', 'jsonl');
    expect(jsonl.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { status: string }).status)).toHaveLength(12);
  });

  it('relays the server error and rejects bad options', async () => {
    const missing = await run('job', 'compare', 'nope', 'job-b');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('baseline: evaluation job');
    const bad = await run('job', 'compare', 'job-a', 'job-b', '--format', 'xml');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format');
  });
});
