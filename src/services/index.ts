import type { JsonlLimits } from '../domain/jsonl.js';
import type { Store } from '../store/index.js';
import { createAccountService, type AccountService } from './accounts.js';
import { createDatasetService, type DatasetService } from './datasets.js';
import { createSignedUrlService, type SignedUrlOptions } from './signed-urls.js';

export interface Services {
  accounts: AccountService;
  datasets: DatasetService;
}

export interface ServiceOptions {
  signedUrls?: SignedUrlOptions;
  jsonl?: Partial<JsonlLimits>;
  maxUploadBytes?: number;
}

export function createServices(store: Store, options: ServiceOptions = {}): Services {
  const signedUrls = createSignedUrlService(store, options.signedUrls);
  return {
    accounts: createAccountService(store),
    datasets: createDatasetService(store, signedUrls, { jsonl: options.jsonl, maxUploadBytes: options.maxUploadBytes }),
  };
}

export type { AccountService, DatasetService };
