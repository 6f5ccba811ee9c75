import type { JsonlLimits } from '../domain/jsonl.js';
import type { Store } from '../store/index.js';
import { createAccountService, type AccountService } from './accounts.js';
import { createBuildQueue, type BuildQueue, type EvaluatorBuilder } from './build-queue.js';
import { createDatasetService, type DatasetService } from './datasets.js';
import { createEvaluatorService, type EvaluatorService } from './evaluators.js';
import { createSignedUrlService, type SignedUrlOptions } from './signed-urls.js';
import { createTransferService, type TransferService } from './transfers.js';

export interface Services {
  accounts: AccountService;
  datasets: DatasetService;
  evaluators: EvaluatorService;
  transfers: TransferService;
  builds: BuildQueue;
}

export interface ServiceOptions {
  signedUrls?: SignedUrlOptions;
  jsonl?: Partial<JsonlLimits>;
  maxUploadBytes?: number;
  /** Builds evaluators; the composition root supplies the sandboxed one. */
  builder: EvaluatorBuilder;
  /** Evaluator builds running at once. @default 2 */
  buildConcurrency?: number;
}

export function createServices(store: Store, options: ServiceOptions): Services {
  const signedUrls = createSignedUrlService(store, options.signedUrls);
  const builds = createBuildQueue(store, options.builder, { concurrency: options.buildConcurrency ?? 2 });
  const datasets = createDatasetService(store, signedUrls, { jsonl: options.jsonl, maxUploadBytes: options.maxUploadBytes });
  const evaluators = createEvaluatorService(store, signedUrls, builds);
  return {
    accounts: createAccountService(store),
    datasets,
    evaluators,
    builds,
    transfers: createTransferService(signedUrls, datasets, evaluators),
  };
}

export type { AccountService, BuildQueue, DatasetService, EvaluatorBuilder, EvaluatorService };
