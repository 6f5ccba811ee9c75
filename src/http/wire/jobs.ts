import { z } from 'zod';
import type { JobRecord, RowResult } from '../../domain/jobs.js';
import { rolloutSchema, toRolloutInput, toWireRollout } from './rollout.js';
import type { JobInput, JobProgressView } from '../../services/jobs.js';
import { outputOnly } from '../validation.js';
import { MAX_CONCURRENT_EVALUATIONS_LIMIT, MAX_EVALUATION_THREADS } from '../../domain/row-concurrency.js';
import { jsonShapeProblem } from '../../domain/json-shape.js';
import { RawJson } from './raw-json.js';

/** Tally's additions to the job message: how it runs. All optional. */
const settingsSchema = z.strictObject({
  perRowTimeoutSeconds: z.number().positive().max(3600).optional(),
  maxErrorRate: z.number().min(0).max(1).optional(),
  concurrency: z.number().int().min(0).max(1024).optional(),
  chunkRows: z.number().int().min(1).max(100_000).optional(),
  maxConcurrentEvaluations: z.number().int().min(1).max(MAX_CONCURRENT_EVALUATIONS_LIMIT).optional(),
  evaluationThreads: z.number().int().min(0).max(MAX_EVALUATION_THREADS).optional(),
});

export const evaluationJobSchema = z.strictObject({
  name: outputOnly,
  createTime: outputOnly,
  createdBy: outputOnly,
  updateTime: outputOnly,
  state: outputOnly,
  status: outputOnly,
  metrics: outputOnly,
  progress: outputOnly,
  egress: outputOnly,
  evaluator: z.string({ error: 'evaluator is required' }).max(512),
  inputDataset: z.string({ error: 'inputDataset is required' }).max(512),
  outputDataset: z.string({ error: 'outputDataset is required' }).max(512),
  displayName: z.string().max(512).optional(),
  outputStats: z.string().max(1024 * 1024).optional(),
  awsS3Config: z.strictObject({ credentialsSecret: z.string().optional(), iamRoleArn: z.string().optional() }).optional(),
  evaluatorVersion: z.string().max(256).optional(),
  settings: settingsSchema.optional(),
  rollout: rolloutSchema.optional(),
});

export const createJobBody = z.strictObject({
  evaluationJob: evaluationJobSchema,
  evaluationJobId: z.string().optional(),
  leaderboardIds: z.array(z.string().max(256)).max(64).optional(),
  parent: z.string().optional(),
});

export function toJobInput(body: z.infer<typeof evaluationJobSchema>): JobInput {
  const s = body.settings ?? {};
  return {
    evaluator: body.evaluator,
    inputDataset: body.inputDataset,
    outputDataset: body.outputDataset,
    displayName: body.displayName,
    outputStats: body.outputStats,
    awsS3Config: body.awsS3Config,
    settings: Object.fromEntries(
      Object.entries({ perRowTimeoutMs: s.perRowTimeoutSeconds === undefined ? undefined : s.perRowTimeoutSeconds * 1000, maxErrorRate: s.maxErrorRate, concurrency: s.concurrency, chunkRows: s.chunkRows, maxConcurrentEvaluations: s.maxConcurrentEvaluations, evaluationThreads: s.evaluationThreads })
        .filter(([, v]) => v !== undefined),
    ),
    ...(body.rollout ? { rollout: toRolloutInput(body.rollout) } : {}),
  };
}

export function toWireJob(job: JobRecord, progress: JobProgressView): Record<string, unknown> {
  const name = (collection: string, id: string) => `accounts/${job.accountId}/${collection}/${id}`;
  return {
    name: name('evaluationJobs', job.id),
    displayName: job.displayName,
    createTime: job.createTime,
    createdBy: job.createdBy,
    updateTime: job.updateTime,
    state: job.state,
    status: job.status,
    evaluator: name('evaluators', job.evaluatorId),
    inputDataset: name('datasets', job.inputDatasetId),
    outputDataset: name('datasets', job.outputDatasetId),
    metrics: job.metrics,
    outputStats: job.outputStats,
    progress,
    settings: {
      perRowTimeoutSeconds: job.settings.perRowTimeoutMs / 1000,
      maxErrorRate: job.settings.maxErrorRate,
      concurrency: job.settings.concurrency,
      chunkRows: job.settings.chunkRows,
      ...(job.settings.maxConcurrentEvaluations === undefined ? {} : { maxConcurrentEvaluations: job.settings.maxConcurrentEvaluations }),
      ...(job.settings.evaluationThreads === undefined ? {} : { evaluationThreads: job.settings.evaluationThreads }),
    },
    leaderboardIds: job.leaderboardIds,
    awsS3Config: job.awsS3Config,
    egress: job.settings.egress ?? false,
    ...(job.settings.rollout ? { rollout: toWireRollout(job.settings.rollout) } : {}),
  };
}

/** Rows stored before the upload depth limit may be too deep for `JSON.stringify`. */
function tooDeepToReserialise(text: string): boolean {
  return jsonShapeProblem(Buffer.from(text), 0, Buffer.byteLength(text)) !== undefined;
}

/** `row` is the stored text, sent as is, unless a read mask selects inside it (`parseRow`). */
export function toWireResult(result: RowResult & { data: string }, parseRow = false): Record<string, unknown> {
  return {
    index: result.idx,
    score: result.score,
    isScoreValid: result.isScoreValid,
    errorKind: result.errorKind,
    ms: result.ms,
    row: parseRow && !tooDeepToReserialise(result.data) ? (JSON.parse(result.data) as unknown) : new RawJson(result.data),
  };
}
