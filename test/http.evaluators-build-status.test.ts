import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, waitFor, type TestServer } from './support/server.js';

/** An evaluator whose import takes a while, so the build's import step is long enough to see. */
const SLOW_IMPORT = ['import time', 'time.sleep(6)', '', 'def evaluate(messages, ground_truth=None, tools=None, **kwargs):', '    return 1.0', ''].join('\n');
const QUICK = ['def evaluate(messages, ground_truth=None, tools=None, **kwargs):', '    return 1.0', ''].join('\n');

function inline(id: string, mainPy: string) {
  return {
    evaluatorId: id,
    evaluator: { criteria: [{ type: 'CODE_SNIPPETS', name: 'c', codeSnippets: { language: 'python', fileContents: { 'main.py': mainPy } } }] },
  };
}

/** Issue 15, fix 9: the status message says what the build is doing, and changes as it goes. */
describe('evaluator build status on sqlite', () => {
  let t: TestServer;
  const base = () => `/v1/accounts/${t.accountId}/evaluators`;

  beforeAll(async () => {
    t = await startTestServer('sqlite', { buildConcurrency: 1 });
  });
  afterAll(async () => {
    await t.close();
  });

  it('reports queued, then each step, then nothing once ACTIVE', async () => {
    expect((await t.call('POST', `${base()}V2`, { body: inline('slow', SLOW_IMPORT) })).status).toBe(200);
    const waiting = await t.call('POST', `${base()}V2`, { body: inline('behind', QUICK) });
    // One build at a time: the second waits for the first.
    expect(waiting.json['status']).toEqual({ code: 'OK', message: 'build queued' });

    const importing = await waitFor(t, `${base()}/slow`, (e) => String((e['status'] as { message: string }).message).startsWith('building: importing'), 120_000);
    expect(importing).toMatchObject({ state: 'BUILDING', status: { code: 'OK', message: 'building: importing the entry point (c: main.py::evaluate)' } });
    expect((await t.call('GET', `${base()}/behind`)).json['status']).toEqual({ code: 'OK', message: 'build queued' });

    const done = await waitFor(t, `${base()}/slow`, (e) => e['state'] !== 'BUILDING', 120_000);
    expect(done).toMatchObject({ state: 'ACTIVE', status: { code: 'OK', message: '' } });
    expect(await waitFor(t, `${base()}/behind`, (e) => e['state'] !== 'BUILDING', 120_000)).toMatchObject({ state: 'ACTIVE', status: { message: '' } });
  }, 300_000);
});
