import type { EvaluatorRecord } from '../domain/evaluators.js';
import type { JsonlLimits } from '../domain/jsonl.js';
import type { Store } from '../store/index.js';
import { createAccountService, type AccountService } from './accounts.js';
import { createBuildQueue, type BuildQueue, type EvaluatorBuilder } from './build-queue.js';
import { createComparisonService, type ComparisonService } from './comparisons.js';
import { createDatasetService, type DatasetService } from './datasets.js';
import { createRevisionService, type RevisionService } from './evaluator-revisions.js';
import { createEvaluatorService, type EvaluatorService } from './evaluators.js';
import { createJobService, type JobEvents, type JobService } from './jobs.js';
import { createLeaderboardService, type LeaderboardService } from './leaderboards.js';
import { createPreviewService, type PreviewService } from './preview.js';
import type { PreviewRunner } from './preview.js';
import type { JobSettings } from '../domain/jobs.js';
import type { SecretCipher } from './secret-cipher.js';
import { createSecretEnv, createSecretService, type SecretService } from './secrets.js';
import { createSignedUrlService, type SignedUrlOptions } from './signed-urls.js';
import { createTransferService, type TransferService } from './transfers.js';
import { createOpenAiEvalServices, type ModelEndpoints, type OpenAiEvalServices } from './openai-evals/index.js';

export interface Services {
  accounts: AccountService;
  datasets: DatasetService;
  evaluators: EvaluatorService;
  transfers: TransferService;
  builds: BuildQueue;
  jobs: JobService;
  comparisons: ComparisonService;
  leaderboards: LeaderboardService;
  secrets: SecretService;
  previews: PreviewService;
  revisions: RevisionService;
  /** The OpenAI Evals face (docs/openai-evals.md). */
  openaiEvals: OpenAiEvalServices;
}

export interface ServiceOptions {
  signedUrls?: SignedUrlOptions;
  jsonl?: Partial<JsonlLimits>;
  maxUploadBytes?: number;
  /** Builds evaluators; the composition root supplies the sandboxed one. */
  builder: EvaluatorBuilder;
  /** Evaluator builds running at once. @default 2 */
  buildConcurrency?: number;
  /** Defaults for new jobs' settings. */
  jobDefaults?: Partial<JobSettings>;
  jobEvents?: JobEvents;
  /** Worker slots that can take work (the in-process worker's): new jobs are cut so each gets some. */
  workerSlots?: number;
  /** An evaluator's build finished and it is ACTIVE (the in-process worker starts its processes). */
  onEvaluatorBuilt?(evaluator: EvaluatorRecord): void;
  /** Encrypts account secrets at rest (key from config `secretKey` or `<dataDir>/secret.key`). */
  secretCipher: SecretCipher;
  /** Scores preview samples in the sandbox; the composition root supplies it. */
  previewRunner: PreviewRunner;
  /** Whether an evaluator build is on this host (a rollback to it then needs no rebuild). @default never */
  hasBuild?: (buildDir: string) => boolean;
  /** The OpenAI Evals face's model names and their endpoints (config `openaiModels`). */
  openaiModels?: ModelEndpoints;
  /** The model name (mapped in openaiModels) the cosine grader embeds with (config `openaiEmbeddingModel`). */
  openaiEmbeddingModel?: string;
  /** Whether WordNet is here for the meteor grader (Debian's wordnet-base). */
  wordnet?: boolean;
}

export function createServices(store: Store, options: ServiceOptions): Services {
  const signedUrls = createSignedUrlService(store, options.signedUrls);
  const jobs = createJobService(store, signedUrls, options.jobDefaults, options.jobEvents, { slots: options.workerSlots ?? 1 });
  const comparisons = createComparisonService(store);
  const secretEnv = createSecretEnv(store, options.secretCipher);
  const builds = createBuildQueue(store, options.builder, {
    concurrency: options.buildConcurrency ?? 2,
    secretEnv,
    events: {
      onBuildFinished(evaluator) {
        void jobs.onBuildFinished(evaluator);
        if (evaluator.state === 'ACTIVE') options.onEvaluatorBuilt?.(evaluator);
      },
    },
  });
  const datasets = createDatasetService(store, signedUrls, { jsonl: options.jsonl, maxUploadBytes: options.maxUploadBytes });
  const evaluators = createEvaluatorService(store, signedUrls, builds);
  const revisions = createRevisionService(store, {
    hasBuild: options.hasBuild ?? (() => false),
    rebuild: (current, from) => evaluators.rebuildFrom(current, from),
    onActive: (evaluator) => jobs.onBuildFinished(evaluator),
  });
  return {
    revisions,
    accounts: createAccountService(store),
    datasets,
    evaluators,
    builds,
    jobs,
    comparisons,
    leaderboards: createLeaderboardService(store, comparisons),
    secrets: createSecretService(store, options.secretCipher),
    transfers: createTransferService(signedUrls, { datasets, evaluators, jobs }),
    previews: createPreviewService(store, { builder: options.builder, run: options.previewRunner, secretEnv }),
    openaiEvals: createOpenAiEvalServices(store, { evaluators, datasets, jobs }, { models: options.openaiModels, embeddingModel: options.openaiEmbeddingModel }, { meteor: options.wordnet }),
  };
}

export type { AccountService, BuildQueue, ComparisonService, DatasetService, EvaluatorBuilder, EvaluatorService, JobService, LeaderboardService, PreviewService, SecretService };
