import { z } from 'zod';
import { CRITERION_TYPES, SOURCE_TYPES, reportedSource, rowConcurrencyOf, type EvaluatorRecord } from '../../domain/evaluators.js';
import type { EvaluatorInput } from '../../services/evaluators.js';
import { outputOnly } from '../validation.js';
import { DEFAULT_MAX_CONCURRENT_EVALUATIONS, MAX_CONCURRENT_EVALUATIONS_LIMIT, MAX_EVALUATION_THREADS } from '../../domain/row-concurrency.js';
import { compact } from './common.js';

/** Relative file paths inside an evaluator: no absolute paths, no '..', no odd characters. */
const relativePath = z
  .string()
  .max(256)
  .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[\w.\-/]+$/, 'expected a relative file path (letters, digits, ".", "_", "-", "/"; no "..")');

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a function name (a Python/JavaScript identifier)');

const codeSnippetsSchema = z.strictObject({
  language: z.string().max(32).optional(),
  fileContents: z.record(relativePath, z.string().max(4 * 1024 * 1024)).optional(),
  entryFile: relativePath.optional(),
  entryFunc: identifier.optional(),
});

const criterionSchema = z.strictObject({
  type: z.enum(CRITERION_TYPES).optional(),
  name: z.string().max(256).optional(),
  description: z.string().max(4096).optional(),
  codeSnippets: codeSnippetsSchema.optional(),
});

/**
 * `path.py::func` (eval-protocol's pytest node id). The CLI also accepts `module::func` and
 * `module:func`; they are normalised to the path form, as `ep upload` does.
 */
const entryPoint = z
  .string()
  .max(512)
  .transform((value, ctx) => {
    if (value === '') return value;
    const match = /^([\w./-]+?)(\.py)?:{1,2}([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not "path/to/file.py::function"` });
      return z.NEVER;
    }
    const path = match[2] ? match[1]! : match[1]!.replaceAll('.', '/');
    return `${path}.py::${match[3]!}`;
  });

export const evaluatorSchema = z.strictObject({
  name: outputOnly,
  displayName: z.string().max(512).optional(),
  description: z.string().max(8192).optional(),
  createTime: outputOnly,
  createdBy: outputOnly,
  updateTime: outputOnly,
  state: outputOnly,
  status: outputOnly,
  currentVersionId: outputOnly,
  criteria: z.array(criterionSchema).max(64).optional(),
  requirements: z.string().max(64 * 1024).optional(),
  entryPoint: entryPoint.optional(),
  commitHash: z.string().max(256).optional(),
  source: z.strictObject({ type: z.enum(SOURCE_TYPES).optional(), githubRepositoryName: z.string().max(256).optional() }).optional(),
  defaultDataset: z.string().max(512).optional(),
  multiMetrics: z.boolean().optional(),
  allowEgress: z.boolean().optional(),
  maxConcurrentEvaluations: z.number().int().min(1).max(MAX_CONCURRENT_EVALUATIONS_LIMIT).optional(),
  evaluationThreads: z.number().int().min(0).max(MAX_EVALUATION_THREADS).optional(),
  rollupSettings: z
    .strictObject({
      criteriaWeights: z.record(z.string(), z.number()).optional(),
      pythonCode: z.string().max(64 * 1024).optional(),
      skipRollup: z.boolean().optional(),
      successThreshold: z.number().optional(),
    })
    .optional(),
});

export type EvaluatorBody = z.infer<typeof evaluatorSchema>;

export const createEvaluatorBody = z.strictObject({
  evaluator: evaluatorSchema,
  evaluatorId: z.string().optional(),
  parent: z.string().optional(),
});

export function toEvaluatorInput(body: EvaluatorBody): EvaluatorInput {
  return {
    displayName: body.displayName,
    description: body.description,
    spec: {
      criteria: body.criteria,
      requirements: body.requirements,
      entryPoint: body.entryPoint,
      commitHash: body.commitHash,
      source: body.source,
      defaultDataset: body.defaultDataset,
      multiMetrics: body.multiMetrics,
      rollupSettings: body.rollupSettings,
      allowEgress: body.allowEgress,
      maxConcurrentEvaluations: body.maxConcurrentEvaluations,
      evaluationThreads: body.evaluationThreads,
    },
  };
}

export function toWireEvaluator(record: EvaluatorRecord): Record<string, unknown> {
  const { spec } = record;
  return compact({
    name: `accounts/${record.accountId}/evaluators/${record.id}`,
    displayName: record.displayName,
    description: record.description,
    createTime: record.createTime,
    createdBy: record.createdBy,
    updateTime: record.updateTime,
    state: record.state,
    status: record.status,
    criteria: spec.criteria,
    requirements: spec.requirements,
    entryPoint: spec.entryPoint,
    commitHash: spec.commitHash,
    source: reportedSource(record),
    defaultDataset: spec.defaultDataset,
    multiMetrics: spec.multiMetrics,
    rollupSettings: spec.rollupSettings,
    allowEgress: spec.allowEgress ?? false,
    currentVersionId: record.currentRevisionId || undefined,
    maxConcurrentEvaluations: rowConcurrencyOf(record).maxConcurrentEvaluations ?? DEFAULT_MAX_CONCURRENT_EVALUATIONS,
    evaluationThreads: spec.evaluationThreads ?? 0,
  });
}
