import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from './support/server.js';

const EVALUATE = 'def evaluate(messages, ground_truth=None, **kw):\n    return 1.0\n';
/** A host uid that is neither the server's nor a sandbox one, in no group. */
const STRANGER = 4_321;

/** Runs `command` as another host user; its exit status and stderr. */
function asStranger(command: string[]): { status: number | null; stderr: string } {
  const run = spawnSync('/usr/bin/setpriv', [`--reuid=${STRANGER}`, `--regid=${STRANGER}`, '--clear-groups', '--', ...command], { encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

describe('builds/ on the host', () => {
  let t: TestServer;
  const a = '/v1/accounts/acme';

  beforeAll(async () => {
    t = await startTestServer('sqlite', { inProcessWorker: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is readable by the sandbox uids (the evaluator builds and runs) and not by another host uid', async () => {
    await t.call('POST', `${a}/evaluatorsV2`, { body: { evaluatorId: 'private', evaluator: { criteria: [{ name: 'one', codeSnippets: { fileContents: { 'main.py': EVALUATE } } }] } } });
    await waitFor(t, `${a}/evaluators/private`, (e) => e['state'] === 'ACTIVE' || e['state'] === 'BUILD_FAILED');
    const preview = await t.call('POST', `${a}/evaluators/private:preview`, { body: { sampleData: ['{"messages":[{"role":"user","content":"x"}]}'] } });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.json).toMatchObject({ results: [{ success: true, score: 1 }] });

    const evaluator = await t.server.store.evaluators.get('acme', 'private');
    const buildDir = evaluator!.buildDir;
    const builds = dirname(buildDir);
    expect(builds).toBe(join(t.dataDir, 'builds'));
    const mode = statSync(builds).mode & 0o777;
    expect(mode.toString(8)).toBe('710');
    expect(statSync(builds).gid).toBe(199_999);

    const manifest = join(buildDir, 'manifest.json');
    expect(execFileSync('cat', [manifest], { encoding: 'utf8' })).toContain('{');
    const read = asStranger(['cat', manifest]);
    expect(read.status).not.toBe(0);
    expect(read.stderr).toContain('Permission denied');
    const list = asStranger(['ls', builds]);
    expect(list.status).not.toBe(0);
  });
});
