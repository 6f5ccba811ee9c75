import type { GraderAvailability } from '../../domain/graders/criteria.js';
import type { Store } from '../../store/index.js';
import type { DatasetService } from '../datasets.js';
import type { EvaluatorService } from '../evaluators.js';
import type { JobService } from '../jobs.js';
import { createEvalService, type EvalService } from './evals.js';
import { createOutputItemService, type OutputItemService } from './output-items.js';
import { createRunService, type RunService } from './runs.js';

/** The OpenAI Evals face's use cases, over the same evaluators, datasets and jobs as the Fireworks face. */
export interface OpenAiEvalServices {
  evals: EvalService;
  runs: RunService;
  outputItems: OutputItemService;
}

/** The model cosine embeds with unless the operator names another (OpenAI's own cosine used it). */
export const DEFAULT_EMBEDDING_MODEL = 'text-embedding-3-large';

/** Model names a `completions` run may name, and where each is sampled. */
export type ModelEndpoints = Record<string, { baseUrl: string; model?: string | undefined; apiKeySecret?: string | undefined }>;

export function createOpenAiEvalServices(
  store: Store,
  deps: { evaluators: EvaluatorService; datasets: DatasetService; jobs: JobService },
  { models = {}, embeddingModel = DEFAULT_EMBEDDING_MODEL }: { models?: ModelEndpoints | undefined; embeddingModel?: string | undefined } = {},
  { meteor = false }: { meteor?: boolean | undefined } = {},
): OpenAiEvalServices {
  const graders: GraderAvailability = { meteor, cosineModel: models[embeddingModel] ? embeddingModel : undefined };
  const evals = createEvalService(store, { ...deps, graders });
  const runs = createRunService(store, { evals, datasets: deps.datasets, jobs: deps.jobs, models, embeddingModel });
  return { evals, runs, outputItems: createOutputItemService(store, runs) };
}

export type { EvalService, OutputItemService, RunService };
export type { OutputItemView, GraderResult } from './output-items.js';
export type { RunView } from './runs.js';
