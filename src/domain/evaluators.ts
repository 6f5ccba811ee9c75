/**
 * Evaluators: user scoring code plus requirements, built into an isolated environment.
 *
 * - flavour `v2` ("eval3", POST /evaluatorsV2): code comes as an uploaded archive (entryPoint
 *   `path.py::func`) or inline in `criteria[].codeSnippets`.
 * - flavour `v1` (legacy POST /evaluators): code inline in `criteria[].codeSnippets`.
 * - build: unpack, install requirements into a cached environment, import the entry point inside
 *   the sandbox. States BUILDING -> ACTIVE | BUILD_FAILED.
 * - build generation: a counter bumped by every build request, so a build that finishes after a
 *   newer request (a PATCH that changed requirements) cannot overwrite the newer outcome.
 */
import type { RowConcurrencySettings } from './row-concurrency.js';
import type { ResourceStatus } from './types.js';

export const EVALUATOR_STATES = ['STATE_UNSPECIFIED', 'ACTIVE', 'BUILDING', 'BUILD_FAILED'] as const;
export type EvaluatorState = (typeof EVALUATOR_STATES)[number];

export const CRITERION_TYPES = ['TYPE_UNSPECIFIED', 'CODE_SNIPPETS'] as const;
export const SOURCE_TYPES = ['TYPE_UNSPECIFIED', 'TYPE_UPLOAD', 'TYPE_GITHUB', 'TYPE_TEMPORARY'] as const;

export interface CodeSnippets {
  language?: string;
  fileContents?: Record<string, string>;
  entryFile?: string;
  entryFunc?: string;
}

export interface Criterion {
  type?: (typeof CRITERION_TYPES)[number];
  name?: string;
  description?: string;
  codeSnippets?: CodeSnippets;
}

export interface EvaluatorSource {
  type?: (typeof SOURCE_TYPES)[number];
  githubRepositoryName?: string;
}

export interface RollupSettings {
  criteriaWeights?: Record<string, number>;
  pythonCode?: string;
  skipRollup?: boolean;
  successThreshold?: number;
}

/** What the user specifies; everything else about an evaluator is the platform's. */
export interface EvaluatorSpec {
  criteria: Criterion[];
  requirements: string;
  entryPoint: string;
  commitHash: string;
  source?: EvaluatorSource;
  defaultDataset: string;
  multiMetrics?: boolean;
  rollupSettings?: RollupSettings;
  /** Tally: let the evaluator's sandbox reach the network (an LLM judge needs it). @default false */
  allowEgress?: boolean;
  /** Tally: rows of an async evaluator in flight at once per process (domain/row-concurrency.ts). @default 96 */
  maxConcurrentEvaluations?: number;
  /** Tally: a thread pool of this size scores a sync evaluator's rows; unset = one at a time. */
  evaluationThreads?: number;
}

export interface EvaluatorRecord {
  accountId: string;
  id: string;
  flavour: 'v1' | 'v2';
  displayName: string;
  description: string;
  createdBy: string;
  createTime: string;
  updateTime: string;
  state: EvaluatorState;
  status: ResourceStatus;
  spec: EvaluatorSpec;
  /** The uploaded source archive (a blob), when the code came by upload. */
  sourceBlobId: string | null;
  sourceFilename: string;
  buildGeneration: number;
  /** Non-empty while a build is wanted and not yet finished: the time it was requested. */
  buildRequestTime: string;
  buildLogBlobId: string | null;
  /** Where the finished build lives (source and manifest), and its environment's hash. */
  buildDir: string;
  envHash: string;
  /** How the built code takes rows: one at a time, a group at a time, or all at once. */
  mode: EvaluatorMode;
  /** The revision the evaluator is now (see EvaluatorRevision); '' or absent before its first build. */
  currentRevisionId?: string;
  /** What an eval-protocol entry point declares about generating, found at build time; absent otherwise. */
  declaredRollout?: DeclaredRollout;
}

/** An @evaluation_test's rollout processor (its class name) and first completion_params, as the harness reported them. */
export interface DeclaredRollout {
  processor: string | null;
  completionParams: Record<string, unknown> | null;
  numRuns: number;
  passedThreshold: number | null;
  /** eval-protocol's max_concurrent_rollouts: the job's maxConcurrentRollouts unless it sets one. */
  maxConcurrentRollouts?: number | null;
  /** eval-protocol's max_concurrent_evaluations: the evaluator's maxConcurrentEvaluations unless it sets one. */
  maxConcurrentEvaluations?: number | null;
}

/** Rows in flight per process as the evaluator asks: its own fields, else what its @evaluation_test declares. */
export function rowConcurrencyOf(evaluator: EvaluatorRecord): RowConcurrencySettings {
  const concurrency = evaluator.spec.maxConcurrentEvaluations ?? evaluator.declaredRollout?.maxConcurrentEvaluations ?? undefined;
  const threads = evaluator.spec.evaluationThreads;
  return { ...(concurrency === undefined ? {} : { maxConcurrentEvaluations: concurrency }), ...(threads === undefined ? {} : { evaluationThreads: threads }) };
}

/**
 * A revision: what one finished build made of the evaluator (its spec, source and build), kept
 * so a job can run it and the evaluator can be rolled back to it. `latest` (the newest) and
 * `current` (the evaluator's) are aliases Tally keeps; users add their own.
 */
export interface EvaluatorRevision {
  accountId: string;
  evaluatorId: string;
  id: string;
  seq: number;
  createTime: string;
  snapshot: EvaluatorRecord;
  aliases: string[];
}

export const REVISION_KEYWORDS = ['latest', 'current'] as const;

/** '' before the first successful build. */
export type EvaluatorMode = '' | 'pointwise' | 'groupwise' | 'all';

/** True when the spec carries its code inline, so a build can start without an upload. */
export function hasInlineCode(spec: EvaluatorSpec): boolean {
  return spec.criteria.some((c) => Object.keys(c.codeSnippets?.fileContents ?? {}).length > 0);
}

/** `owner/repo` as GitHub allows them; never `.` or `..`, so the URL cannot climb out of the base. */
export const REPOSITORY_NAME = /^(?!\.\.?\/)[A-Za-z0-9_.-]+\/(?!\.\.?$)[A-Za-z0-9_.-]+$/;
/** A sha or a ref name; never starting with `-` (git would read an option) and without `:` or `..`. */
export const COMMIT_REF = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_./-]{0,254}$/;

/** What is wrong with a TYPE_GITHUB source, naming the field; undefined when it is usable (or not GitHub). */
export function githubSourceProblem(spec: Pick<EvaluatorSpec, 'source' | 'commitHash'>): string | undefined {
  if (spec.source?.type !== 'TYPE_GITHUB') return undefined;
  const repository = spec.source.githubRepositoryName ?? '';
  if (!REPOSITORY_NAME.test(repository)) return `source.githubRepositoryName: "${repository}" is not "owner/repo" (letters, digits, "-", "_", ".")`;
  if (spec.commitHash === '') return 'commitHash: required when source.type is TYPE_GITHUB (a commit sha, branch or tag)';
  if (!COMMIT_REF.test(spec.commitHash)) return `commitHash: "${spec.commitHash.slice(0, 64)}" is not a commit sha, branch or tag`;
  return undefined;
}

/**
 * The source as reported: the one the client set, else `TYPE_UPLOAD` for code that comes (or is
 * awaited) by upload, as the hosted platform reports evaluators made by `ep upload`. Inline code
 * has no source type to report.
 */
export function reportedSource(record: Pick<EvaluatorRecord, 'spec' | 'sourceBlobId'>): EvaluatorSource | undefined {
  const given = record.spec.source;
  if (given?.type !== undefined && given.type !== 'TYPE_UNSPECIFIED') return given;
  if (record.sourceBlobId === null && hasInlineCode(record.spec)) return given;
  return { ...given, type: 'TYPE_UPLOAD' };
}
