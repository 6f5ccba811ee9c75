import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { failedPrecondition } from '../domain/errors.js';
import { hasInlineCode, type EvaluatorRecord } from '../domain/evaluators.js';
import { redactSecrets } from '../domain/secrets.js';
import type { HarnessManifest } from '../runner/protocol.js';
import { isSandboxLoadError } from '../runner/sandbox-errors.js';
import { startSandboxProcess, type SandboxProcess } from '../runner/sandbox-process.js';
import type { SandboxLauncher } from '../sandbox/index.js';
import type { EvaluatorBuilder } from '../services/build-queue.js';
import { evaluatorSandboxSpec, type BoxRuntime, type EvaluatorBox } from './evaluator-box.js';
import { fetchGitSource } from './git-source.js';
import { unpackArchive, type ArchiveKind } from './unpack.js';

/** Turns a requirement set into a ready Python environment; cached by content hash. */
export interface EnvironmentProvider {
  ensure(input: { requirements: string; extras: string[]; log: (line: string) => void; onStep?: (step: string) => void; signal?: AbortSignal }): Promise<{ envDir: string; hash: string }>;
}

export interface BuilderOptions {
  /** Where builds live: `<buildsRoot>/<build id>/{src,manifest.json}`. */
  buildsRoot: string;
  environments: EnvironmentProvider;
  launcher: SandboxLauncher;
  runtime: BoxRuntime;
  /** Packages every entry-point evaluator gets (eval-protocol), as the hosted platform does. */
  entryPointExtras: string[];
  /** @default 120000 */
  importTimeoutMs?: number;
  /** Where `source.type: TYPE_GITHUB` repositories are fetched from. @default "https://github.com" */
  gitBaseUrl?: string;
}

/**
 * The build of one evaluator: lay out the source, work out which contract it follows, make its
 * environment, then import the entry point inside the sandbox (it is untrusted code) and keep the
 * build only when that succeeds. Every failure is an ApiError whose message names the cause.
 */
export function createEvaluatorBuilder(options: BuilderOptions): EvaluatorBuilder {
  return {
    async build({ evaluator, archive, log: rawLog, secrets = {}, onStep = () => {}, signal }) {
      // The build log is readable through the API: whatever the evaluator prints at import must not leak a secret.
      const log = (line: string): void => rawLog(redactSecrets(line, secrets));
      const buildDir = join(options.buildsRoot, `${evaluator.accountId}.${evaluator.id}.${evaluator.buildGeneration}.${randomBytes(4).toString('hex')}`);
      await mkdir(join(buildDir, 'src'), { recursive: true, mode: 0o755 });
      try {
        onStep(evaluator.spec.source?.type === 'TYPE_GITHUB' ? 'fetching the source from GitHub' : archive ? 'unpacking the source' : 'writing the source files');
        const root = await layOutSource(evaluator, archive, join(buildDir, 'src'), options, log);
        const manifest = await chooseContract(evaluator, root);
        log(`contract: ${manifest.contract} (${describeEntry(manifest)})`);
        const requirements = await requirementsOf(evaluator, root);
        const extras = manifest.contract === 'entry_point' ? options.entryPointExtras : [];
        log(`requirements: ${requirements.trim() === '' ? '(none)' : requirements.trim().split('\n').join(', ')}${extras.length ? `; platform: ${extras.join(', ')}` : ''}`);
        onStep('preparing the environment');
        const env = await options.environments.ensure({ requirements, extras, log, onStep, signal });
        log(`environment ${env.hash.slice(0, 12)} ready`);
        onStep(`importing the entry point (${describeEntry(manifest)})`);
        const box: EvaluatorBox = { buildDir, envDir: env.envDir, manifest };
        const { mode, declaredRollout } = await importCheck(box, { ...options.runtime, env: { ...options.runtime.env, ...secrets } }, { ...options, signal }, log);
        if (box.manifest.contract === 'entry_point') box.manifest.mode = mode;
        await writeFile(join(buildDir, 'manifest.json'), JSON.stringify({ ...box, envHash: env.hash }, null, 2), { mode: 0o644 });
        return { buildDir, envHash: env.hash, mode, ...(declaredRollout ? { declaredRollout } : {}) };
      } catch (error: unknown) {
        await rm(buildDir, { recursive: true, force: true });
        throw error;
      }
    },
  };
}

/** A git commit when the source says so, else the uploaded archive, else the inline files. */
async function layOutSource(evaluator: EvaluatorRecord, archive: Parameters<EvaluatorBuilder['build']>[0]['archive'], destination: string, options: BuilderOptions, log: (line: string) => void): Promise<string> {
  const { spec } = evaluator;
  if (spec.source?.type === 'TYPE_GITHUB') {
    const baseUrl = options.gitBaseUrl ?? 'https://github.com';
    return (await fetchGitSource({ baseUrl, repository: spec.source.githubRepositoryName ?? '', commit: spec.commitHash, destination, log })).root;
  }
  return archive ? unpack(archive, destination, log) : writeInlineFiles(evaluator, destination, log);
}

function archiveKind(filename: string): ArchiveKind {
  if (filename.endsWith('.zip')) return 'zip';
  if (filename.endsWith('.tar')) return 'tar';
  return 'tar.gz';
}

async function unpack(archive: { filename: string; bytes: AsyncIterable<Uint8Array> }, destination: string, log: (line: string) => void): Promise<string> {
  const result = await unpackArchive({ archive: archive.bytes, kind: archiveKind(archive.filename), destination });
  log(`unpacked ${archive.filename}: ${result.files} files, ${result.bytes} bytes`);
  return result.root;
}

async function writeInlineFiles(evaluator: EvaluatorRecord, destination: string, log: (line: string) => void): Promise<string> {
  if (!hasInlineCode(evaluator.spec)) {
    throw failedPrecondition('no source code: upload an archive (:getUploadEndpoint, PUT, :validateUpload) or give criteria[].codeSnippets.fileContents');
  }
  let files = 0;
  for (const criterion of evaluator.spec.criteria) {
    for (const [path, content] of Object.entries(criterion.codeSnippets?.fileContents ?? {})) {
      const target = join(destination, path);
      if (relative(destination, target).startsWith('..')) throw failedPrecondition(`criteria: file "${path}" is outside the evaluator`);
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      await writeFile(target, content, { mode: 0o644 });
      files++;
    }
  }
  log(`wrote ${files} inline source files`);
  return destination;
}

/** design.md "Evaluator contracts": entry point, criteria with code, or a legacy main.py. */
async function chooseContract(evaluator: EvaluatorRecord, root: string): Promise<HarnessManifest> {
  const { spec } = evaluator;
  const language = spec.criteria.find((c) => c.codeSnippets?.language)?.codeSnippets?.language ?? 'python';
  if (language !== 'python') throw failedPrecondition(`criteria[].codeSnippets.language: "${language}" evaluators are not supported yet; use python`);
  if (spec.entryPoint) {
    const [path = '', func = ''] = spec.entryPoint.split('::');
    await mustExist(root, path, `entryPoint: file "${path}" not found in the uploaded source`);
    return { contract: 'entry_point', root, path, func, mode: 'pointwise' };
  }
  const coded = spec.criteria.filter((c) => Object.keys(c.codeSnippets?.fileContents ?? {}).length > 0 || c.codeSnippets?.entryFile);
  if (coded.length > 0) {
    const criteria = coded.map((c, i) => ({
      name: c.name || `criterion_${i}`,
      file: c.codeSnippets?.entryFile || 'main.py',
      func: c.codeSnippets?.entryFunc || 'evaluate',
    }));
    for (const c of criteria) await mustExist(root, c.file, `criteria: entry file "${c.file}" of criterion "${c.name}" not found`);
    return { contract: 'criteria', root, criteria };
  }
  await mustExist(root, 'main.py', 'no entry point: set entryPoint ("file.py::function") or ship a main.py defining evaluate(messages, ground_truth=None, tools=None, **kwargs)');
  return { contract: 'legacy', root, file: 'main.py', func: 'evaluate' };
}

async function mustExist(root: string, path: string, message: string): Promise<void> {
  const target = join(root, path);
  if (relative(root, target).startsWith('..') || !existsSync(target)) throw failedPrecondition(message);
  await chmod(target, 0o644);
}

/** The `requirements` field wins; else `requirements.txt` in the source, as `ep upload` ships it. */
async function requirementsOf(evaluator: EvaluatorRecord, root: string): Promise<string> {
  if (evaluator.spec.requirements.trim() !== '') return evaluator.spec.requirements;
  const file = join(root, 'requirements.txt');
  return existsSync(file) ? readFile(file, 'utf8') : '';
}

function describeEntry(manifest: HarnessManifest): string {
  switch (manifest.contract) {
    case 'entry_point':
      return `${manifest.path}::${manifest.func}`;
    case 'criteria':
      return manifest.criteria.map((c) => `${c.name}: ${c.file}::${c.func}`).join(', ');
    case 'legacy':
      return `${manifest.file}::${manifest.func}`;
  }
}

/**
 * Imports the entry point as a job would run it (with the account's secrets in `runtime.env`);
 * answers the mode the code declares, i.e. how it takes rows.
 */
async function importCheck(box: EvaluatorBox, runtime: BoxRuntime, options: BuilderOptions & { signal?: AbortSignal | undefined }, log: (line: string) => void): Promise<Pick<SandboxProcess, 'mode' | 'declaredRollout'>> {
  log('importing the entry point in the sandbox');
  try {
    const process = await startSandboxProcess({
      launcher: options.launcher,
      spec: evaluatorSandboxSpec(box, runtime),
      manifest: box.manifest,
      loadTimeoutMs: options.importTimeoutMs ?? 120_000,
      signal: options.signal,
      onOutput: (stream, text) => log(`[${stream}] ${text.trimEnd()}`),
    });
    const processor = process.declaredRollout?.processor;
    log(`import ok (python ${process.python}, ${process.mode}${processor ? `, rollout processor ${processor}` : ''})`);
    await process.close();
    return { mode: process.mode, declaredRollout: process.declaredRollout };
  } catch (error: unknown) {
    if (isSandboxLoadError(error)) throw failedPrecondition(error.message);
    throw error;
  }
}
