import { metricNamesOf, rowCsvColumns, rowCsvHeader, rowCsvLine, type RowCsvColumns } from '../domain/csv.js';
import { invalidArgument } from '../domain/errors.js';
import type { DatasetRecord } from '../domain/types.js';
import type { DatasetService } from './datasets.js';
import type { EvaluatorService } from './evaluators.js';
import type { JobService } from './jobs.js';
import type { SignedUrlService } from './signed-urls.js';
import type { ReceivedUpload } from './upload-checks.js';

export interface Download {
  filename: string;
  contentType: string;
  body: AsyncIterable<string | Uint8Array>;
}

/** The bytes behind Tally's signed URLs, routed to the resource each URL was issued for. */
export function createTransferService(
  signedUrls: SignedUrlService,
  { datasets, evaluators, jobs }: { datasets: DatasetService; evaluators: EvaluatorService; jobs: JobService },
) {
  return {
    /** `filename` is the URL's last part: it must be the one the URL was issued for. */
    async receive(token: string, upload: ReceivedUpload, filename?: string): Promise<void> {
      const url = await signedUrls.resolve(token, 'upload', filename);
      if (url.targetKind === 'dataset') return datasets.receiveSignedUpload(url, upload);
      if (url.targetKind === 'evaluator') return evaluators.receiveSignedUpload(url, upload);
      throw invalidArgument('signed URL: this URL does not take uploads');
    },
    async open(token: string, urlFilename?: string): Promise<Download> {
      const url = await signedUrls.resolve(token, 'download', urlFilename);
      if (url.targetKind === 'job') return { filename: url.filename, contentType: 'text/plain; charset=utf-8', body: jobs.openLog(url) };
      if (url.targetKind === 'evaluator') {
        const { filename, contentType, bytes } = await evaluators.openDownload(url);
        return { filename, contentType, body: bytes };
      }
      const { filename, pages, record } = await datasets.openDownload(url);
      if (filename.endsWith('.csv')) return { filename, contentType: 'text/csv; charset=utf-8', body: csvChunks(pages, await metricNamesOfJob(jobs, record)) };
      return { filename, contentType: 'application/jsonl; charset=utf-8', body: jsonlChunks(pages) };
    },
  };
}

export type TransferService = ReturnType<typeof createTransferService>;

/** An output dataset's CSV has a column for each metric its job reports, even where the first rows lack it. */
async function metricNamesOfJob(jobs: JobService, record: DatasetRecord): Promise<string[]> {
  const jobId = record.origin.evaluationResult?.evaluationJobId;
  if (!jobId) return [];
  const job = await jobs.get(record.accountId, jobId).catch(() => undefined);
  return job ? metricNamesOf(job.metrics) : [];
}

async function* csvChunks(pages: AsyncGenerator<string[]>, metrics: string[]): AsyncGenerator<string> {
  let columns: RowCsvColumns | undefined;
  let index = 0;
  for await (const page of pages) {
    const rows = page.map((text) => JSON.parse(text) as Record<string, unknown>);
    let out = '';
    if (!columns) {
      columns = rowCsvColumns(rows.slice(0, 100), { metrics });
      out = rowCsvHeader(columns);
    }
    for (const row of rows) out += rowCsvLine(columns, index++, row);
    yield out;
  }
  if (!columns) yield rowCsvHeader(rowCsvColumns([], { metrics }));
}

async function* jsonlChunks(pages: AsyncGenerator<string[]>): AsyncGenerator<string> {
  for await (const page of pages) yield page.join('\n') + '\n';
}
