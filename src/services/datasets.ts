import { failedPrecondition, invalidArgument, notFound } from '../domain/errors.js';
import type { JsonlLimits } from '../domain/jsonl.js';
import { assertValidId, parseResourceName } from '../domain/names.js';
import { lineageParentOf, MAX_LINEAGE_DEPTH } from '../domain/lineage.js';
import { compileRowFilter } from '../domain/row-filter.js';
import { nowIso, type DatasetOrigin, type DatasetRecord, type Principal, type SignedUrlRecord } from '../domain/types.js';
import type { ListPage, ListRequest, Store } from '../store/index.js';
import { splitDataset } from './dataset-split.js';
import { ingestJsonl, readRowSet, type IngestResult } from './row-ingest.js';
import type { SignedUrlService } from './signed-urls.js';
import { checkDeclaredLength, parseDeclaredSize, type ReceivedUpload } from './upload-checks.js';

export interface DatasetInput {
  displayName?: string;
  format?: DatasetRecord['format'];
  exampleCount?: number;
  origin: DatasetOrigin;
}

export interface DatasetServiceOptions {
  jsonl?: Partial<JsonlLimits>;
  /** Largest upload accepted, in bytes. @default 1 GiB */
  maxUploadBytes?: number;
}

export function createDatasetService(store: Store, signedUrls: SignedUrlService, options: DatasetServiceOptions = {}) {
  const maxUploadBytes = options.maxUploadBytes ?? 1024 ** 3;

  const get = async (accountId: string, id: string): Promise<DatasetRecord> => {
    const record = await store.datasets.get(accountId, id);
    if (!record) throw notFound(`dataset "accounts/${accountId}/datasets/${id}" not found`);
    return record;
  };

  const ingest = (accountId: string, source: AsyncIterable<Uint8Array>, field: string): Promise<IngestResult> =>
    ingestJsonl(store, { accountId, source, limits: options.jsonl, field });

  /** Swaps fresh rows in; if the dataset was deleted meanwhile, the rows go too. */
  const commit = async (accountId: string, id: string, result: IngestResult): Promise<DatasetRecord> => {
    const record = await store.datasets.commitRows(accountId, id, {
      rowSetId: result.rowSetId,
      stats: result.stats,
      updateTime: nowIso(),
    });
    if (record) return record;
    await store.rows.deleteSet(result.rowSetId);
    throw notFound(`dataset "accounts/${accountId}/datasets/${id}" was deleted during the upload`);
  };

  return {
    get,
    list: (accountId: string, request: ListRequest): Promise<ListPage<DatasetRecord>> =>
      store.datasets.list(accountId, request),

    async create(
      principal: Principal,
      input: { datasetId: string; dataset: DatasetInput; sourceDatasetId?: string; filter?: string },
    ): Promise<DatasetRecord> {
      const { accountId } = principal;
      assertValidId(input.datasetId, 'datasetId');
      const source = input.sourceDatasetId === undefined ? undefined : await readySource(accountId, input.sourceDatasetId);
      const rowFilter = input.filter ? compileRowFilter(input.filter) : undefined;
      if (rowFilter && !source) throw invalidArgument('filter: needs sourceDatasetId, the dataset to filter');
      const now = nowIso();
      const record: DatasetRecord = {
        accountId,
        id: input.datasetId,
        displayName: input.dataset.displayName ?? input.datasetId,
        createdBy: principal.keyId,
        createTime: now,
        updateTime: now,
        state: 'UPLOADING',
        status: { code: 'OK', message: '' },
        format: input.dataset.format ?? 'FORMAT_UNSPECIFIED',
        exampleCount: input.dataset.exampleCount ?? 0,
        averageTurnCount: 0,
        estimatedTokenCount: 0,
        origin: source
          ? { ...input.dataset.origin, transformed: { sourceDatasetId: source.id, filter: input.filter ?? '', originalFormat: source.format } }
          : input.dataset.origin,
        rowSetId: null,
      };
      await store.datasets.create(record);
      if (!source) return record;
      const copied = await ingest(accountId, filteredRows(source, rowFilter), 'filter');
      return commit(accountId, record.id, copied);
    },

    async update(accountId: string, id: string, input: DatasetInput): Promise<DatasetRecord> {
      const current = await get(accountId, id);
      const updated = await store.datasets.update(accountId, id, {
        displayName: input.displayName,
        format: input.format,
        exampleCount: current.state === 'READY' ? undefined : input.exampleCount,
        origin: { ...current.origin, ...input.origin },
        updateTime: nowIso(),
      });
      if (!updated) throw notFound(`dataset "accounts/${accountId}/datasets/${id}" not found`);
      return updated;
    },

    async delete(accountId: string, id: string): Promise<void> {
      if (!(await store.datasets.delete(accountId, id))) {
        throw notFound(`dataset "accounts/${accountId}/datasets/${id}" not found`);
      }
      // Rows PUT to its upload URLs and never validated go with it.
      for (const url of await store.signedUrls.listStaged(accountId, 'dataset', id)) if (url.stagedRowSetId) await store.rows.deleteSetIfUnused(url.stagedRowSetId);
      await store.signedUrls.deleteForTarget(accountId, 'dataset', id);
    },

    /** `:upload`: one multipart file, validated and swapped in as the dataset's rows. */
    async upload(accountId: string, id: string, source: AsyncIterable<Uint8Array>): Promise<{ record: DatasetRecord; bytes: number }> {
      await get(accountId, id);
      const result = await recordFailure(accountId, id, ingest(accountId, source, 'file'));
      return { record: await commit(accountId, id, result), bytes: result.bytes };
    },

    /**
     * One URL per file. The files are one upload: `:validateUpload` makes their rows, in the order
     * given, the dataset's rows. A call registers its files anew (as the hosted endpoint does), and a
     * file already PUT under the same name still counts, so a client may re-request the whole set.
     */
    async getUploadEndpoint(accountId: string, id: string, filenameToSize: Record<string, string | number>, baseUrl: string) {
      await get(accountId, id);
      const files = Object.entries(filenameToSize).map(([filename, sizeText]) => ({ filename, size: parseDeclaredSize(filename, sizeText, maxUploadBytes) }));
      if (files.length === 0) throw invalidArgument('filenameToSize: name at least one file');
      if (files.length > MAX_UPLOAD_FILES) throw invalidArgument(`filenameToSize: at most ${MAX_UPLOAD_FILES} files per upload, got ${files.length}`);
      const total = files.reduce((sum, f) => sum + f.size, 0);
      if (total > maxUploadBytes) throw invalidArgument(`filenameToSize: the files add up to ${total} bytes, over the limit of ${maxUploadBytes}`);
      await store.datasets.setUploadFiles(accountId, id, files.map((f) => f.filename));
      const urls: Record<string, string> = {};
      for (const { filename, size } of files) {
        urls[filename] = await signedUrls.issue({ accountId, purpose: 'upload', targetKind: 'dataset', targetId: id, filename, size, baseUrl });
      }
      return urls;
    },

    /** The PUT to a signed upload URL: checks the size, then stages the rows for :validateUpload. */
    async receiveSignedUpload(url: SignedUrlRecord, upload: ReceivedUpload): Promise<void> {
      checkDeclaredLength(url.size, upload);
      await signedUrls.withUploadClaim(url, async () => {
        const result = await recordFailure(url.accountId, url.targetId, ingest(url.accountId, upload.source, 'body'));
        if (result.bytes !== url.size) {
          await store.rows.deleteSet(result.rowSetId);
          throw invalidArgument(`body: ${result.bytes} bytes were sent but ${url.size} were declared in filenameToSize`);
        }
        await store.signedUrls.stage(url.tokenHash, { rowSetId: result.rowSetId, stats: result.stats });
      });
    },

    /** All or nothing: every registered file must have been PUT, else nothing changes. */
    async validateUpload(accountId: string, id: string): Promise<DatasetRecord> {
      await get(accountId, id);
      const staged = await store.signedUrls.listStaged(accountId, 'dataset', id);
      const chosen = chooseStagedFiles(id, await store.datasets.getUploadFiles(accountId, id), staged);
      const combined = chosen.length === 1 ? chosen[0]! : await concatenate(accountId, chosen);
      for (const url of staged) if (url.stagedRowSetId !== combined.stagedRowSetId) await store.rows.deleteSet(url.stagedRowSetId!);
      await store.signedUrls.deleteForTarget(accountId, 'dataset', id);
      await store.datasets.setUploadFiles(accountId, id, []);
      return commit(accountId, id, { rowSetId: combined.stagedRowSetId!, stats: combined.stagedStats!, bytes: combined.size });
    },

    /**
     * A URL for the dataset's rows (`<id>.jsonl`, or `<id>.csv` with `format: 'csv'`, domain/csv.ts);
     * with `lineage`, one more for each dataset it was made from that still has rows, nearest
     * first, each named by its own id.
     */
    async getDownloadEndpoint(
      accountId: string,
      id: string,
      baseUrl: string,
      { format = 'jsonl', lineage = false }: { format?: 'jsonl' | 'csv' | undefined; lineage?: boolean } = {},
    ): Promise<Record<string, string>> {
      const record = await get(accountId, id);
      if (record.rowSetId === null) throw failedPrecondition(`dataset "${id}" has no rows yet: upload a file first`);
      const chain = lineage ? [record, ...(await ancestorsOf(record))] : [record];
      const urls: Record<string, string> = {};
      for (const dataset of chain) {
        const filename = `${dataset.id}.${format}`;
        urls[filename] = await signedUrls.issue({ accountId, purpose: 'download', targetKind: 'dataset', targetId: dataset.id, filename, size: 0, baseUrl });
      }
      return urls;
    },

    /** `:splitDataset` (services/dataset-split.ts). */
    split: (principal: Principal, id: string, chunkSize: number) => splitDataset(store, { principal, datasetId: id, chunkSize, limits: options.jsonl }),

    /** The GET of a signed download URL: the rows as JSONL lines, in order, page by page. */
    async openDownload(url: SignedUrlRecord): Promise<{ filename: string; pages: AsyncGenerator<string[]>; record: DatasetRecord }> {
      const record = await get(url.accountId, url.targetId);
      if (record.rowSetId === null) throw failedPrecondition(`dataset "${record.id}" has no rows`);
      return { filename: url.filename, pages: readRowSet(store, record.rowSetId), record };
    },
  };

  /** The rows of several staged files, in order, as one row set with stats over all of them. */
  async function concatenate(accountId: string, files: SignedUrlRecord[]): Promise<SignedUrlRecord> {
    async function* rowsOf(): AsyncGenerator<Uint8Array> {
      for (const file of files) for await (const page of readRowSet(store, file.stagedRowSetId!)) yield Buffer.from(page.join('\n') + '\n');
    }
    const result = await ingest(accountId, rowsOf(), 'files');
    return { ...files[0]!, stagedRowSetId: result.rowSetId, stagedStats: result.stats, size: files.reduce((sum, f) => sum + f.size, 0) };
  }

  /** The datasets `record` was made from, nearest first, while they exist and have rows. */
  async function ancestorsOf(record: DatasetRecord): Promise<DatasetRecord[]> {
    const chain: DatasetRecord[] = [];
    const seen = new Set([record.id]);
    for (let current = record; chain.length < MAX_LINEAGE_DEPTH; ) {
      const parent = lineageParentOf(current.origin, current.accountId);
      const parentId = parent?.kind === 'job' ? (await store.jobs.get(current.accountId, parent.jobId))?.inputDatasetId : parent?.datasetId;
      if (parentId === undefined || seen.has(parentId)) break;
      const dataset = await store.datasets.get(current.accountId, parentId);
      if (!dataset || dataset.rowSetId === null) break;
      chain.push(dataset);
      seen.add(parentId);
      current = dataset;
    }
    return chain;
  }

  async function readySource(accountId: string, sourceDatasetId: string): Promise<DatasetRecord> {
    const { id } = parseResourceName(sourceDatasetId, { accountId, collection: 'datasets', field: 'sourceDatasetId' });
    const source = await store.datasets.get(accountId, id);
    if (!source) throw notFound(`sourceDatasetId: dataset "${id}" not found`);
    if (source.state !== 'READY' || source.rowSetId === null) {
      throw failedPrecondition(`sourceDatasetId: dataset "${id}" is ${source.state}, not READY`);
    }
    return source;
  }

  async function* filteredRows(source: DatasetRecord, keep?: (row: unknown) => boolean): AsyncGenerator<Uint8Array> {
    for await (const page of readRowSet(store, source.rowSetId!)) {
      const lines = keep ? page.filter((text) => keep(JSON.parse(text))) : page;
      if (lines.length > 0) yield Buffer.from(lines.join('\n') + '\n');
    }
  }

  /** A failed upload leaves the rows as they were but says why on the dataset's status. */
  async function recordFailure<T>(accountId: string, id: string, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error: unknown) {
      const message = error instanceof Error ? error.message : String(error);
      await store.datasets.update(accountId, id, { status: { code: 'INVALID_ARGUMENT', message }, updateTime: nowIso() });
      throw error;
    }
  }
}

/** Files one `:getUploadEndpoint` may name (each is a signed URL and a staged row set). */
const MAX_UPLOAD_FILES = 1000;

/**
 * For each registered file, in order, the latest PUT under its name. Before any registration was
 * recorded (URLs issued by an older server) the latest PUT alone, as uploads then worked.
 */
function chooseStagedFiles(datasetId: string, registered: readonly string[], staged: readonly SignedUrlRecord[]): SignedUrlRecord[] {
  const usable = staged.filter((url) => url.stagedRowSetId !== null && url.stagedStats !== null);
  const latest = usable[usable.length - 1];
  if (!latest) throw failedPrecondition(`dataset "${datasetId}": no file has been uploaded to a URL from :getUploadEndpoint`);
  if (registered.length === 0) return [latest];
  const latestByName = new Map(usable.map((url) => [url.filename, url]));
  const missing = registered.filter((name) => !latestByName.has(name));
  if (missing.length > 0) {
    throw failedPrecondition(
      `dataset "${datasetId}": ${missing.length} of ${registered.length} file(s) not uploaded yet: ${missing.slice(0, 10).join(', ')}; PUT each to its URL from :getUploadEndpoint, then :validateUpload`,
    );
  }
  return registered.map((name) => latestByName.get(name)!);
}

export type DatasetService = ReturnType<typeof createDatasetService>;
