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

/** Model names a `completions` run may name, and where each is sampled. */
export type ModelEndpoints = Record<string, { baseUrl: string; model?: string | undefined; apiKeySecret?: string | undefined }>;

export function createOpenAiEvalServices(
  store: Store,
  deps: { evaluators: EvaluatorService; datasets: DatasetService; jobs: JobService },
  { models = {}, graders = {} }: { models?: ModelEndpoints | undefined; graders?: GraderAvailability | undefined } = {},
): OpenAiEvalServices {
  const evals = createEvalService(store, { ...deps, graders });
  const runs = createRunService(store, { evals, datasets: deps.datasets, jobs: deps.jobs, models });
  return { evals, runs, outputItems: createOutputItemService(store, runs) };
}

export type { EvalService, OutputItemService, RunService };
export type { OutputItemView, GraderResult } from './output-items.js';
export type { RunView } from './runs.js';
