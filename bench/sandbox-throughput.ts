/**
 * Rows/s of a trivial evaluator through ONE warm sandbox process, batches of 1000.
 * Run: npx tsx bench/sandbox-throughput.ts [rows] [batch] [bubblewrap|insecure-local]
 */
import { createSandboxLauncher } from '../src/sandbox/index.js';
import { startSandboxProcess } from '../src/runner/sandbox-process.js';
import { fixtureSpec, legacyManifest } from '../src/runner/test-support.js';

async function main(argv: string[]): Promise<void> {
  const total = Number(argv[0] ?? 100_000);
  const batchSize = Number(argv[1] ?? 1_000);
  const mode = argv[2] === 'insecure-local' ? 'insecure-local' : 'bubblewrap';
  const launcher = createSandboxLauncher({ mode });
  const rows = Array.from({ length: batchSize }, (_, i) => ({
    messages: [{ role: 'user', content: `question ${i}` }, { role: 'assistant', content: `answer ${i}` }],
    ground_truth: `answer ${i}`,
  }));
  const proc = await startSandboxProcess({
    launcher,
    spec: fixtureSpec('trivial'),
    manifest: legacyManifest('trivial'),
    loadTimeoutMs: 10_000,
  });
  await proc.scoreBatch(rows, { perRowTimeoutMs: 10_000 }); // warm-up
  const started = performance.now();
  let scored = 0;
  while (scored < total) {
    const outcomes = await proc.scoreBatch(rows, { perRowTimeoutMs: 10_000 });
    scored += outcomes.filter((o) => o.ok).length;
  }
  const seconds = (performance.now() - started) / 1000;
  await proc.close();
  const rate = Math.round(scored / seconds);
  process.stdout.write(`${mode}: ${scored} rows in ${seconds.toFixed(2)} s = ${rate} rows/s (batches of ${batchSize})\n`);
}

await main(process.argv.slice(2));
