/**
 * Terminology
 * - account: the tenant. Every resource name starts with `accounts/{account_id}/`.
 * - API key: a secret that authenticates as one account, with a role (`admin` or `user`).
 *   Only its SHA-256 hash is stored.
 * - dataset: an ordered list of JSON rows (JSONL). States UPLOADING then READY.
 * - row set: one immutable upload of a dataset's rows. A dataset points at its current row set;
 *   a new upload fills a fresh row set and is swapped in only when it is complete and valid, so a
 *   failed upload never shows a row and never touches earlier data.
 * - signed URL: a capability URL Tally serves itself for PUT uploads (single use, expiring) and
 *   GET downloads (expiring), standing in for the hosted platform's cloud-storage URLs.
 * - status: a resource's `{code, message}` (code as an enum string), distinct from the error body.
 * See docs/glossary.md for the whole glossary.
 */

import type { ErrorCode } from './errors.js';

export type Role = 'admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'user'];

export interface Account {
  id: string;
  displayName: string;
  /** The SDK's Account requires an email; '' when the operator gave none. */
  email: string;
  createTime: string;
  updateTime: string;
}

export interface ApiKeyRecord {
  accountId: string;
  id: string;
  displayName: string;
  role: Role;
  keyHash: string;
  keyPrefix: string;
  createTime: string;
}

/** Who is calling: the outcome of authenticating an API key. */
export interface Principal {
  accountId: string;
  keyId: string;
  role: Role;
}

export interface ResourceStatus {
  code: ErrorCode | 'OK';
  message: string;
}

export const DATASET_STATES = ['STATE_UNSPECIFIED', 'UPLOADING', 'READY'] as const;
export type DatasetState = (typeof DATASET_STATES)[number];

export const DATASET_FORMATS = ['FORMAT_UNSPECIFIED', 'CHAT', 'COMPLETION', 'RL'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** The dataset fields that are only stored and echoed back (origin and lineage markers). */
export interface DatasetOrigin {
  userUploaded?: Record<string, unknown>;
  evaluationResult?: { evaluationJobId: string };
  transformed?: { sourceDatasetId: string; filter?: string; originalFormat?: string };
  splitted?: { sourceDatasetId: string };
  evalProtocol?: Record<string, unknown>;
  externalUrl?: string;
  sourceJobName?: string;
}

export interface DatasetRecord {
  accountId: string;
  id: string;
  displayName: string;
  createdBy: string;
  createTime: string;
  updateTime: string;
  state: DatasetState;
  status: ResourceStatus;
  format: DatasetFormat;
  exampleCount: number;
  averageTurnCount: number;
  estimatedTokenCount: number;
  origin: DatasetOrigin;
  /** The row set holding the current rows; null until the first successful upload. */
  rowSetId: number | null;
}

export interface DatasetStats {
  exampleCount: number;
  format: DatasetFormat;
  averageTurnCount: number;
  estimatedTokenCount: number;
}

export type UploadTargetKind = 'dataset' | 'evaluator' | 'job';

/** A signed URL, as stored: the token itself is never stored, only its hash. */
export interface SignedUrlRecord {
  tokenHash: string;
  accountId: string;
  purpose: 'upload' | 'download';
  targetKind: UploadTargetKind;
  targetId: string;
  filename: string;
  /** Declared size in bytes for uploads; 0 for downloads. */
  size: number;
  expireTime: string;
  usedTime: string;
  /** For dataset uploads: the staged row set and its stats once the PUT succeeded. */
  stagedRowSetId: number | null;
  stagedStats: DatasetStats | null;
  /** For evaluator uploads: the blob holding the archive once the PUT succeeded. */
  stagedBlobId: string | null;
}

export function nowIso(): string {
  return new Date().toISOString();
}
