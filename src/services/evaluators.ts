import { randomUUID } from 'node:crypto';
import { failedPrecondition, invalidArgument, notFound } from '../domain/errors.js';
import { githubSourceProblem, hasInlineCode, type EvaluatorRecord, type EvaluatorSpec } from '../domain/evaluators.js';
import { assertValidId, generateId } from '../domain/names.js';
import { nowIso, type Principal, type SignedUrlRecord } from '../domain/types.js';
import type { EvaluatorPatch, ListPage, ListRequest, Store } from '../store/index.js';
import type { BuildQueue } from './build-queue.js';
import type { SignedUrlService } from './signed-urls.js';
import { checkDeclaredLength, parseDeclaredSize, type ReceivedUpload } from './upload-checks.js';

export interface EvaluatorInput {
  displayName?: string;
  description?: string;
  spec: Partial<EvaluatorSpec>;
}

const ARCHIVE_NAME = /\.(tar\.gz|tgz|tar|zip)$/;
const WAITING_FOR_UPLOAD = 'waiting for the source code: call :getUploadEndpoint, PUT the archive, then :validateUpload';

export interface EvaluatorServiceOptions {
  /** Largest source archive, in bytes. @default 256 MiB */
  maxArchiveBytes?: number;
}

export function createEvaluatorService(store: Store, signedUrls: SignedUrlService, builds: BuildQueue, options: EvaluatorServiceOptions = {}) {
  const maxArchiveBytes = options.maxArchiveBytes ?? 256 * 1024 ** 2;

  const get = async (accountId: string, id: string): Promise<EvaluatorRecord> => {
    const record = await store.evaluators.get(accountId, id);
    if (!record) throw notFound(`evaluator "accounts/${accountId}/evaluators/${id}" not found`);
    return record;
  };

  /** Moves the evaluator to BUILDING with a new generation and queues the build. */
  const requestBuild = async (record: EvaluatorRecord, patch: Omit<EvaluatorPatch, 'updateTime'> = {}): Promise<EvaluatorRecord> => {
    const now = nowIso();
    const updated = await store.evaluators.update(record.accountId, record.id, {
      ...patch,
      state: 'BUILDING',
      status: { code: 'OK', message: 'build queued' },
      buildGeneration: record.buildGeneration + 1,
      buildRequestTime: now,
      updateTime: now,
    });
    if (!updated) throw notFound(`evaluator "${record.id}" was deleted`);
    builds.enqueue(updated.accountId, updated.id);
    return updated;
  };

  const canBuild = (spec: EvaluatorSpec, sourceBlobId: string | null): boolean =>
    sourceBlobId !== null || hasInlineCode(spec) || spec.source?.type === 'TYPE_GITHUB';

  return {
    get,
    list: (accountId: string, request: ListRequest): Promise<ListPage<EvaluatorRecord>> => store.evaluators.list(accountId, request),

    async create(principal: Principal, input: { evaluatorId?: string; evaluator: EvaluatorInput; flavour: 'v1' | 'v2' }): Promise<EvaluatorRecord> {
      const id = input.evaluatorId || generateId();
      assertValidId(id, 'evaluatorId');
      const spec = completeSpec(input.evaluator.spec);
      assertBuildableSource(spec);
      const now = nowIso();
      const record: EvaluatorRecord = {
        accountId: principal.accountId,
        id,
        flavour: input.flavour,
        displayName: input.evaluator.displayName || id,
        description: input.evaluator.description ?? '',
        createdBy: principal.keyId,
        createTime: now,
        updateTime: now,
        state: 'BUILDING',
        status: { code: 'OK', message: WAITING_FOR_UPLOAD },
        spec,
        sourceBlobId: null,
        sourceFilename: '',
        buildGeneration: 0,
        buildRequestTime: '',
        buildLogBlobId: null,
        buildDir: '',
        envHash: '', mode: '',
      };
      await store.evaluators.create(record);
      return canBuild(spec, null) ? requestBuild(record) : record;
    },

    async update(accountId: string, id: string, input: EvaluatorInput, { prepareCodeUpload = false } = {}): Promise<EvaluatorRecord> {
      const current = await get(accountId, id);
      const spec = { ...current.spec, ...stripUndefined(input.spec) };
      assertBuildableSource(spec);
      const metadata = { displayName: input.displayName, description: input.description, spec };
      if (prepareCodeUpload) {
        const now = nowIso();
        const updated = await store.evaluators.update(accountId, id, {
          ...metadata,
          state: 'BUILDING',
          status: { code: 'OK', message: WAITING_FOR_UPLOAD },
          buildGeneration: current.buildGeneration + 1,
          buildRequestTime: '',
          updateTime: now,
        });
        return updated ?? get(accountId, id);
      }
      if (needsRebuild(current.spec, spec) && canBuild(spec, current.sourceBlobId)) return requestBuild(current, metadata);
      return (await store.evaluators.update(accountId, id, { ...metadata, updateTime: nowIso() })) ?? get(accountId, id);
    },

    async delete(accountId: string, id: string): Promise<void> {
      const deleted = await store.evaluators.delete(accountId, id);
      if (!deleted) throw notFound(`evaluator "accounts/${accountId}/evaluators/${id}" not found`);
      for (const blobId of deleted.blobIds) await store.blobs.delete(blobId);
      // Archives PUT to its upload URLs and never validated go with it.
      for (const url of await store.signedUrls.listStaged(accountId, 'evaluator', id)) if (url.stagedBlobId) await store.blobs.delete(url.stagedBlobId);
      await store.signedUrls.deleteForTarget(accountId, 'evaluator', id);
    },

    async getUploadEndpoint(accountId: string, id: string, filenameToSize: Record<string, string | number>, baseUrl: string) {
      await get(accountId, id);
      const entries = Object.entries(filenameToSize);
      if (entries.length !== 1) throw invalidArgument(`filenameToSize: an evaluator takes exactly one archive, got ${entries.length}`);
      const [filename, sizeText] = entries[0]!;
      if (!ARCHIVE_NAME.test(filename)) throw invalidArgument(`filenameToSize: "${filename}" is not a .tar.gz, .tgz, .tar or .zip archive`);
      const size = parseDeclaredSize(filename, sizeText, maxArchiveBytes);
      const url = await signedUrls.issue({ accountId, purpose: 'upload', targetKind: 'evaluator', targetId: id, filename, size, baseUrl });
      return { [filename]: url };
    },

    /** The PUT of the archive: stored as a blob and staged for :validateUpload. */
    async receiveSignedUpload(url: SignedUrlRecord, upload: ReceivedUpload): Promise<void> {
      checkDeclaredLength(url.size, upload);
      await signedUrls.withUploadClaim(url, async () => {
        const blobId = `src-${randomUUID()}`;
        const size = await store.blobs.write(url.accountId, blobId, upload.source);
        if (size !== url.size) {
          await store.blobs.delete(blobId);
          throw invalidArgument(`body: ${size} bytes were sent but ${url.size} were declared in filenameToSize`);
        }
        await store.signedUrls.stage(url.tokenHash, { blobId });
      });
    },

    async validateUpload(accountId: string, id: string): Promise<EvaluatorRecord> {
      const current = await get(accountId, id);
      const staged = await store.signedUrls.listStaged(accountId, 'evaluator', id);
      const latest = staged[staged.length - 1];
      if (!latest?.stagedBlobId) throw failedPrecondition(`evaluator "${id}": no archive has been uploaded to a URL from :getUploadEndpoint`);
      for (const older of staged.slice(0, -1)) if (older.stagedBlobId) await store.blobs.delete(older.stagedBlobId);
      await store.signedUrls.deleteForTarget(accountId, 'evaluator', id);
      if (current.sourceBlobId) await store.blobs.delete(current.sourceBlobId);
      return requestBuild(current, { sourceBlobId: latest.stagedBlobId, sourceFilename: latest.filename });
    },

    async getBuildLogEndpoint(accountId: string, id: string, baseUrl: string): Promise<string> {
      const record = await get(accountId, id);
      if (!record.buildLogBlobId) return '';
      return signedUrls.issue({ accountId, purpose: 'download', targetKind: 'evaluator', targetId: id, filename: 'build.log', size: 0, baseUrl });
    },

    async getSourceCodeSignedUrl(accountId: string, id: string, baseUrl: string): Promise<Record<string, string>> {
      const record = await get(accountId, id);
      if (!record.sourceBlobId) return {};
      const filename = record.sourceFilename;
      return { [filename]: await signedUrls.issue({ accountId, purpose: 'download', targetKind: 'evaluator', targetId: id, filename, size: 0, baseUrl }) };
    },

    /** The GET of a signed URL for an evaluator: its build log or its source archive. */
    async openDownload(url: SignedUrlRecord): Promise<{ filename: string; contentType: string; bytes: AsyncGenerator<Uint8Array> }> {
      const record = await get(url.accountId, url.targetId);
      const blobId = url.filename === 'build.log' ? record.buildLogBlobId : record.sourceBlobId;
      if (!blobId) throw notFound(`evaluator "${record.id}" has no ${url.filename}`);
      const contentType = url.filename === 'build.log' ? 'text/plain; charset=utf-8' : 'application/octet-stream';
      return { filename: url.filename, contentType, bytes: store.blobs.read(blobId) };
    },
  };
}

export type EvaluatorService = ReturnType<typeof createEvaluatorService>;

function completeSpec(spec: Partial<EvaluatorSpec>): EvaluatorSpec {
  return {
    ...stripUndefined(spec),
    criteria: spec.criteria ?? [],
    requirements: spec.requirements ?? '',
    entryPoint: spec.entryPoint ?? '',
    commitHash: spec.commitHash ?? '',
    defaultDataset: spec.defaultDataset ?? '',
  };
}

function assertBuildableSource(spec: EvaluatorSpec): void {
  const problem = githubSourceProblem(spec);
  if (problem) throw invalidArgument(problem);
}

/** Requirements, entry point, code or (for git sources) the commit changed: what runs is different, so it must be built again. */
function needsRebuild(before: EvaluatorSpec, after: EvaluatorSpec): boolean {
  return (
    before.requirements !== after.requirements ||
    before.entryPoint !== after.entryPoint ||
    JSON.stringify(before.criteria) !== JSON.stringify(after.criteria) ||
    (after.source?.type === 'TYPE_GITHUB' && (before.commitHash !== after.commitHash || JSON.stringify(before.source) !== JSON.stringify(after.source)))
  );
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
