import { createHash, randomBytes } from 'node:crypto';
import { ApiError, failedPrecondition, notFound } from '../domain/errors.js';
import { nowIso, type SignedUrlRecord, type UploadTargetKind } from '../domain/types.js';
import type { Store } from '../store/index.js';

/** The path prefix under which Tally serves the signed URLs it hands out. */
export const SIGNED_URL_PREFIX = '/signed';

export interface SignedUrlOptions {
  /** @default 3600 */
  uploadTtlSeconds?: number;
  /** @default 3600 */
  downloadTtlSeconds?: number;
}

export interface SignedUrlService {
  issue(input: {
    accountId: string;
    purpose: 'upload' | 'download';
    targetKind: UploadTargetKind;
    targetId: string;
    filename: string;
    size: number;
    baseUrl: string;
  }): Promise<string>;
  /**
   * Finds a live URL by its token; NOT_FOUND for unknown ones or when `filename` (the URL's last
   * part) is not the one it was issued with, PERMISSION_DENIED for expired ones.
   */
  resolve(token: string, purpose: 'upload' | 'download', filename?: string): Promise<SignedUrlRecord>;
  /** Runs `upload` holding the URL's single-use claim; the claim is given back if it fails. */
  withUploadClaim<T>(record: SignedUrlRecord, upload: () => Promise<T>): Promise<T>;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function createSignedUrlService(store: Store, options: SignedUrlOptions = {}): SignedUrlService {
  const { uploadTtlSeconds = 3600, downloadTtlSeconds = 3600 } = options;
  return {
    async issue({ accountId, purpose, targetKind, targetId, filename, size, baseUrl }) {
      const token = randomBytes(32).toString('base64url');
      const ttl = purpose === 'upload' ? uploadTtlSeconds : downloadTtlSeconds;
      await store.signedUrls.create({
        tokenHash: hashToken(token),
        accountId,
        purpose,
        targetKind,
        targetId,
        filename,
        size,
        expireTime: new Date(Date.now() + ttl * 1000).toISOString(),
        usedTime: '',
        stagedRowSetId: null,
        stagedStats: null,
        stagedBlobId: null,
      });
      return `${baseUrl}${SIGNED_URL_PREFIX}/${token}/${encodeURIComponent(filename)}`;
    },
    async resolve(token, purpose, filename) {
      const record = await store.signedUrls.get(hashToken(token));
      if (!record || record.purpose !== purpose) throw notFound('signed URL not found');
      if (filename !== undefined && filename !== record.filename) throw notFound(`signed URL not found: this URL is for "${record.filename}", not "${filename}"`);
      if (record.expireTime < nowIso()) throw new ApiError({ code: 'PERMISSION_DENIED', message: 'signed URL has expired' });
      return record;
    },
    async withUploadClaim(record, upload) {
      if (!(await store.signedUrls.claim(record.tokenHash, nowIso()))) {
        throw failedPrecondition('signed URL was already used: request a new one with :getUploadEndpoint');
      }
      try {
        return await upload();
      } catch (error: unknown) {
        await store.signedUrls.release(record.tokenHash);
        throw error;
      }
    },
  };
}
