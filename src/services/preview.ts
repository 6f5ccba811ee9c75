import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { coerceError, failedPrecondition, invalidArgument, isApiError, notFound } from '../domain/errors.js';
import { jsonShapeProblem } from '../domain/json-shape.js';
import type { EvaluatorRecord } from '../domain/evaluators.js';
import { nowIso, type Principal } from '../domain/types.js';
import type { Store } from '../store/index.js';
import type { EvaluatorBuilder } from './build-queue.js';
import type { EvaluatorInput } from './evaluators.js';
import type { SecretEnv } from './secrets.js';

/** Samples scored per preview. @see reference §2.11 (`maxSamples` defaults to 10). */
const DEFAULT_MAX_SAMPLES = 10;
const MAX_SAMPLES = 100;
const PREVIEW_ROW_TIMEOUT_MS = 30_000;

export interface PreviewRequest {
  sampleData: string[];
  maxSamples?: number;
}

/**
 * The port the runner implements (runner/preview.ts): scores a few sample rows on a fresh sandbox
 * process of a build, keeping what it printed.
 */
export type PreviewRunner = (input: { buildDir: string; rows: object[]; perRowTimeoutMs: number; secrets: Record<string, string>; network: boolean }) => Promise<PreviewRun>;

export interface PreviewRun {
  outcomes: PreviewOutcome[];
  stdout: string[];
  stderr: string[];
  runtimeMs: number;
}

/** One sample row as the runner scored it: a result, a row error, or not scored (a re-run). */
export type PreviewOutcome =
  | { ok: true; result: { score: number; is_score_valid: boolean; reason: string | null; metrics: Record<string, unknown> } }
  | { ok: false; retry?: false; error: { kind: string; message: string } }
  | { ok: false; retry: true; reason: string };

export interface PreviewResult {
  results: { success: boolean; score: number; reason: string; perMetricEvals: Record<string, unknown> }[];
  totalSamples: number;
  /** int64, so a decimal string on the wire. */
  totalRuntimeMs: string;
  stdout: string[];
  stderr: string[];
}

/**
 * Preview: run an evaluator on a few sample rows now and answer with each result and what it
 * printed. An inline evaluator is built into a throwaway build first (same builder, same
 * sandbox); an existing one runs its current build.
 */
export function createPreviewService(store: Store, { builder, run, secretEnv }: { builder: EvaluatorBuilder; run: PreviewRunner; secretEnv: SecretEnv }) {
  async function execute(evaluator: EvaluatorRecord, buildDir: string, request: PreviewRequest): Promise<PreviewResult> {
    const rows = parseSamples(request);
    const secrets = await secretEnv(evaluator.accountId);
    const outcome = await run({ buildDir, rows, perRowTimeoutMs: PREVIEW_ROW_TIMEOUT_MS, secrets, network: evaluator.spec.allowEgress === true });
    return toPreviewResult(outcome);
  }

  return {
    async previewInline(principal: Principal, input: EvaluatorInput, request: PreviewRequest): Promise<PreviewResult> {
      parseSamples(request);
      const evaluator = throwawayEvaluator(principal, input);
      const secrets = await secretEnv(principal.accountId);
      const log: string[] = [];
      let buildDir: string | undefined;
      try {
        buildDir = (await builder.build({ evaluator, archive: undefined, log: (line) => log.push(line), secrets })).buildDir;
        return await execute(evaluator, buildDir, request);
      } catch (error: unknown) {
        if (isApiError(error)) throw failedPrecondition(`evaluator: the preview build failed: ${error.message}`);
        throw coerceError(error);
      } finally {
        if (buildDir) await rm(buildDir, { recursive: true, force: true });
      }
    },

    async previewExisting(accountId: string, id: string, request: PreviewRequest): Promise<PreviewResult> {
      const evaluator = await store.evaluators.get(accountId, id);
      if (!evaluator) throw notFound(`evaluator "accounts/${accountId}/evaluators/${id}" not found`);
      if (evaluator.state !== 'ACTIVE') throw failedPrecondition(`evaluator "${id}" is ${evaluator.state}, not ACTIVE: ${evaluator.status.message}`);
      return execute(evaluator, evaluator.buildDir, request);
    },
  };
}

export type PreviewService = ReturnType<typeof createPreviewService>;

function parseSamples({ sampleData, maxSamples }: PreviewRequest): object[] {
  const limit = Math.min(maxSamples && maxSamples > 0 ? maxSamples : DEFAULT_MAX_SAMPLES, MAX_SAMPLES);
  if (sampleData.length === 0) throw invalidArgument('sampleData: give at least one sample row (a JSON object as a string)');
  return sampleData.slice(0, limit).map((text, i) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error: unknown) {
      throw invalidArgument(`sampleData[${i}]: not valid JSON: ${(error as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument(`sampleData[${i}]: not a JSON object`);
    const shapeProblem = jsonShapeProblem(Buffer.from(text), 0, Buffer.byteLength(text));
    if (shapeProblem) throw invalidArgument(`sampleData[${i}]: ${shapeProblem}`);
    return value;
  });
}

function throwawayEvaluator(principal: Principal, input: EvaluatorInput): EvaluatorRecord {
  const now = nowIso();
  return {
    accountId: principal.accountId, id: `preview-${randomBytes(4).toString('hex')}`, flavour: 'v1', displayName: 'preview', description: '',
    createdBy: principal.keyId, createTime: now, updateTime: now, state: 'BUILDING', status: { code: 'OK', message: '' },
    spec: {
      criteria: input.spec.criteria ?? [], requirements: input.spec.requirements ?? '', entryPoint: input.spec.entryPoint ?? '',
      commitHash: '', defaultDataset: '', source: input.spec.source, allowEgress: input.spec.allowEgress,
    },
    sourceBlobId: null, sourceFilename: '', buildGeneration: 0, buildRequestTime: '', buildLogBlobId: null, buildDir: '', envHash: '', mode: '',
  };
}

function toPreviewResult(run: PreviewRun): PreviewResult {
  return {
    results: run.outcomes.map(toSampleResult),
    totalSamples: run.outcomes.length,
    totalRuntimeMs: String(Math.round(run.runtimeMs)),
    stdout: run.stdout,
    stderr: run.stderr,
  };
}

function toSampleResult(outcome: PreviewOutcome): PreviewResult['results'][number] {
  if (outcome.ok) {
    const { result } = outcome;
    return { success: result.is_score_valid, score: result.score, reason: result.reason ?? '', perMetricEvals: result.metrics };
  }
  const reason = outcome.retry ? outcome.reason : `${outcome.error.kind}: ${outcome.error.message}`;
  return { success: false, score: 0, reason, perMetricEvals: {} };
}
