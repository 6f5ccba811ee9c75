import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluatorSandboxSpec, type BoxRuntime, type EvaluatorBox } from '../build/evaluator-box.js';
import { redactSecrets } from '../domain/secrets.js';
import type { SandboxLauncher } from '../sandbox/index.js';
import type { PreviewRunner } from '../services/preview.js';
import { startSandboxProcess } from './sandbox-process.js';

/** The preview port of services/preview.ts: a fresh sandbox process per preview, closed after. */
export function createPreviewRunner(launcher: SandboxLauncher, runtime: BoxRuntime): PreviewRunner {
  return async ({ buildDir, rows, perRowTimeoutMs, secrets, network }) => {
    const box = JSON.parse(await readFile(join(buildDir, 'manifest.json'), 'utf8')) as EvaluatorBox;
    const output = { stdout: [] as string[], stderr: [] as string[] };
    const started = performance.now();
    const proc = await startSandboxProcess({
      launcher,
      spec: evaluatorSandboxSpec(box, { ...runtime, env: { ...runtime.env, ...secrets }, network }),
      // A box of its own PID namespace can be swept of leftovers after every batch.
      manifest: { ...box.manifest, reap_leftovers: launcher.isolated },
      loadTimeoutMs: 120_000,
      onOutput: (stream, text) => output[stream].push(redactSecrets(text.trimEnd(), secrets)),
    });
    try {
      const outcomes = await proc.scoreBatch(rows, { perRowTimeoutMs, careful: true });
      return { outcomes, ...output, runtimeMs: performance.now() - started };
    } finally {
      await proc.close();
    }
  };
}
