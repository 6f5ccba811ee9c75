import type { EvaluatorRecord } from '../domain/evaluators.js';
import type {
  Account,
  ApiKeyRecord,
  DatasetRecord,
  DatasetStats,
  ResourceStatus,
  SignedUrlRecord,
} from '../domain/types.js';

/**
 * The Store port: everything the services persist goes through it. Each backend (sqlite/,
 * postgres/) owns its connections; no connection or transaction type crosses this boundary, so a
 * use case that needs atomicity gets one method that is atomic.
 */
export type Dialect = 'sqlite' | 'postgres';

export interface ListRequest {
  filter?: string;
  orderBy?: string;
  pageSize?: number;
  pageToken?: string;
}

export interface ListPage<T> {
  items: T[];
  nextPageToken: string;
  totalSize: number;
}

export interface AccountRepo {
  create(account: Account): Promise<void>;
  get(id: string): Promise<Account | undefined>;
  list(): Promise<Account[]>;
}

export interface ApiKeyRepo {
  create(key: ApiKeyRecord): Promise<void>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  list(accountId: string, request: ListRequest): Promise<ListPage<ApiKeyRecord>>;
  get(accountId: string, id: string): Promise<ApiKeyRecord | undefined>;
  /** Returns false when there was no such key. */
  delete(accountId: string, id: string): Promise<boolean>;
}

export interface DatasetPatch {
  displayName?: string;
  format?: DatasetRecord['format'];
  exampleCount?: number;
  origin?: DatasetRecord['origin'];
  state?: DatasetRecord['state'];
  status?: ResourceStatus;
  updateTime: string;
}

export interface DatasetRepo {
  /** Throws ALREADY_EXISTS when the id is taken. */
  create(record: DatasetRecord): Promise<void>;
  get(accountId: string, id: string): Promise<DatasetRecord | undefined>;
  list(accountId: string, request: ListRequest): Promise<ListPage<DatasetRecord>>;
  update(accountId: string, id: string, patch: DatasetPatch): Promise<DatasetRecord | undefined>;
  /** Deletes the dataset and its rows. Returns false when there was no such dataset. */
  delete(accountId: string, id: string): Promise<boolean>;
  /**
   * Atomically makes `rowSetId` the dataset's rows, with its stats, state READY and status OK,
   * and drops the row set it replaces. Returns undefined when the dataset no longer exists (the
   * caller then drops the new row set).
   */
  commitRows(
    accountId: string,
    id: string,
    commit: { rowSetId: number; stats: DatasetStats; updateTime: string },
  ): Promise<DatasetRecord | undefined>;
}

export interface RowRepo {
  /** A new, empty row set owned by `accountId`. */
  createSet(accountId: string): Promise<number>;
  /** Appends rows (JSON text) at indexes start, start+1, ... in one transaction. */
  append(rowSetId: number, start: number, rows: readonly string[]): Promise<void>;
  /** Up to `limit` rows with index > afterIdx, in index order. */
  read(rowSetId: number, afterIdx: number, limit: number): Promise<{ idx: number; data: string }[]>;
  deleteSet(rowSetId: number): Promise<void>;
}

export interface SignedUrlRepo {
  create(record: SignedUrlRecord): Promise<void>;
  get(tokenHash: string): Promise<SignedUrlRecord | undefined>;
  /** Marks an upload URL used; false when it already was (so each URL works once). */
  claim(tokenHash: string, usedTime: string): Promise<boolean>;
  /** Undoes a claim when the PUT failed, so the client may retry with the same URL. */
  release(tokenHash: string): Promise<void>;
  stage(tokenHash: string, staged: { rowSetId: number; stats: DatasetStats } | { blobId: string }): Promise<void>;
  /** Upload URLs of one target that hold a staged upload (row set or blob), oldest first. */
  listStaged(accountId: string, targetKind: string, targetId: string): Promise<SignedUrlRecord[]>;
  deleteForTarget(accountId: string, targetKind: string, targetId: string): Promise<void>;
  deleteExpired(now: string): Promise<number>;
}

export type EvaluatorPatch = Partial<
  Pick<
    EvaluatorRecord,
    | 'displayName'
    | 'description'
    | 'state'
    | 'status'
    | 'spec'
    | 'sourceBlobId'
    | 'sourceFilename'
    | 'buildGeneration'
    | 'buildRequestTime'
    | 'buildLogBlobId'
    | 'buildDir'
    | 'envHash'
  >
> & { updateTime: string };

export interface EvaluatorRepo {
  /** Throws ALREADY_EXISTS when the id is taken. */
  create(record: EvaluatorRecord): Promise<void>;
  get(accountId: string, id: string): Promise<EvaluatorRecord | undefined>;
  list(accountId: string, request: ListRequest): Promise<ListPage<EvaluatorRecord>>;
  /**
   * Applies the patch; with `ifGeneration`, only while the build generation is still that one
   * (a stale build must not overwrite a newer request). Undefined when nothing was updated.
   */
  update(accountId: string, id: string, patch: EvaluatorPatch, options?: { ifGeneration?: number }): Promise<EvaluatorRecord | undefined>;
  /** Deletes the evaluator; answers the blobs it owned (for the caller to drop), or undefined. */
  delete(accountId: string, id: string): Promise<{ blobIds: string[] } | undefined>;
  /** Evaluators whose build was requested and has not finished, oldest request first. */
  listPendingBuilds(): Promise<EvaluatorRecord[]>;
}

/** Opaque byte objects (source archives, build logs), streamed in and out. */
export interface BlobRepo {
  /** Stores the bytes of `source` under `id`; answers the size. Nothing is kept if it fails. */
  write(accountId: string, id: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number>;
  size(id: string): Promise<number | undefined>;
  read(id: string): AsyncGenerator<Uint8Array>;
  delete(id: string): Promise<void>;
}

export interface Store {
  readonly dialect: Dialect;
  readonly accounts: AccountRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly datasets: DatasetRepo;
  readonly rows: RowRepo;
  readonly signedUrls: SignedUrlRepo;
  readonly evaluators: EvaluatorRepo;
  readonly blobs: BlobRepo;
  close(): Promise<void>;
}
