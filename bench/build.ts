/**
 * Evaluator build times, create -> ACTIVE, through a real in-process server:
 *   cold        fresh environment cache: venv creation + pip download/install of one requirement
 *   warm        a second evaluator with the same requirements (cached environment)
 *   entry warm  an entry-point evaluator (eval-protocol environment), only when that environment
 *               already exists in --entry-env-dir (the test suites' shared cache by default)
 * Run: npx tsx bench/build.ts [--requirement six==1.16.0] [--sandbox bubblewrap|insecure-local] [--entry-env-dir DIR]
 * The issue's target: a warm build ACTIVE in under 2 seconds.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { EVAL_PROTOCOL_REQUIREMENT } from '../src/runtime.js';
import { startServer, type RunningServer } from '../src/server.js';

const LEGACY = 'def evaluate(messages, ground_truth=None, tools=None, **kwargs):\n    import six\n    return {"score": 1.0, "reason": six.text_type("ok")}\n';
const ENTRY = 'import eval_protocol  # what a real entry point pays for at import\n\n\ndef test_exact(row):\n    row["evaluation_result"] = {"score": 1.0}\n    return row\n';

interface BenchServer {
  server: RunningServer;
  /** Milliseconds from POST to ACTIVE; throws with the status when the build fails. */
  timeBuild(id: string, evaluator: object): Promise<number>;
  close(): Promise<void>;
}

async function startBenchServer(sandbox: string, envDir: string): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tally-bench-build-'));
  const server = await startServer(loadConfig({ env: {}, flags: { dataDir, envDir, port: 0, accountId: 'bench', sandbox } }));
  const headers = { authorization: `Bearer ${server.bootstrapKey!.key}`, 'content-type': 'application/json' };
  const base = `${server.url}/v1/accounts/bench`;
  return {
    server,
    async timeBuild(id, evaluator) {
      const started = performance.now();
      const created = await fetch(`${base}/evaluatorsV2`, { method: 'POST', headers, body: JSON.stringify({ evaluatorId: id, evaluator }) });
      if (!created.ok) throw new Error(`create ${id}: ${created.status} ${await created.text()}`);
      for (;;) {
        const got = (await (await fetch(`${base}/evaluators/${id}`, { headers })).json()) as { state: string; status?: { message?: string } };
        if (got.state === 'ACTIVE') return performance.now() - started;
        if (got.state === 'BUILD_FAILED') throw new Error(`build ${id} failed: ${got.status?.message ?? ''}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const inline = (requirements: string, files: Record<string, string>, entryPoint?: string) => ({
  requirements,
  entryPoint,
  criteria: [{ name: 'bench', codeSnippets: { language: 'python', fileContents: files } }],
});

/** An environment directory already holding eval-protocol with no other requirements, so the entry-point build is warm. */
function hasEntryPointEnvironment(envDir: string): boolean {
  if (!existsSync(envDir)) return false;
  return readdirSync(envDir).some((name) => {
    const ready = join(envDir, name, '.ready');
    if (!existsSync(ready)) return false;
    const info = JSON.parse(readFileSync(ready, 'utf8')) as { requirements?: string; extras?: string[] };
    return info.requirements === '' && JSON.stringify(info.extras) === JSON.stringify([EVAL_PROTOCOL_REQUIREMENT]);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requirement: { type: 'string', default: 'six==1.16.0' },
      sandbox: { type: 'string', default: 'bubblewrap' },
      'entry-env-dir': { type: 'string', default: join(tmpdir(), 'tally-test-envs') },
    },
  });
  const rows: [string, number | string][] = [];
  const freshEnvs = mkdtempSync(join(tmpdir(), 'tally-bench-envs-'));
  // mkdtemp makes it private; the sandboxed installer (another uid) has to reach the environments in it.
  chmodSync(freshEnvs, 0o755);
  const fresh = await startBenchServer(values.sandbox, freshEnvs);
  try {
    rows.push([`cold (${values.requirement}, empty env cache)`, await fresh.timeBuild('cold', inline(values.requirement, { 'main.py': LEGACY }))]);
    rows.push(['warm (same requirements)', await fresh.timeBuild('warm', inline(values.requirement, { 'main.py': LEGACY }))]);
    rows.push(['warm again', await fresh.timeBuild('warm-again', inline(values.requirement, { 'main.py': LEGACY }))]);
  } finally {
    await fresh.close();
    rmSync(freshEnvs, { recursive: true, force: true });
  }
  const entryDir = values['entry-env-dir'];
  if (hasEntryPointEnvironment(entryDir)) {
    const shared = await startBenchServer(values.sandbox, entryDir);
    try {
      rows.push([`entry point warm (${EVAL_PROTOCOL_REQUIREMENT})`, await shared.timeBuild('entry', inline('', { 'test_bench.py': ENTRY }, 'test_bench.py::test_exact'))]);
    } finally {
      await shared.close();
    }
  } else {
    rows.push(['entry point warm', `skipped: no ${EVAL_PROTOCOL_REQUIREMENT} environment in ${entryDir}`]);
  }
  printTable(rows, values.sandbox);
}

function printTable(rows: [string, number | string][], sandbox: string): void {
  const width = Math.max(...rows.map(([name]) => name.length));
  process.stdout.write(`evaluator builds, create -> ACTIVE (sandbox: ${sandbox})\n`);
  for (const [name, ms] of rows) process.stdout.write(`  ${name.padEnd(width)}  ${typeof ms === 'number' ? `${(ms / 1000).toFixed(2).padStart(7)} s` : ms}\n`);
  const cold = rows[0]![1];
  const warm = rows[1]![1];
  if (typeof cold === 'number' && typeof warm === 'number') {
    process.stdout.write(`  cold/warm ratio: ${(cold / warm).toFixed(1)}x; warm target < 2 s: ${warm < 2000 ? 'met' : 'NOT met'}\n`);
  }
}

await main();
