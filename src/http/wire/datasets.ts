import { z } from 'zod';
import { DATASET_FORMATS, type DatasetRecord } from '../../domain/types.js';
import type { DatasetInput } from '../../services/datasets.js';
import { int64, outputOnly } from '../validation.js';
import { compact } from './common.js';

const looseObject = z.record(z.string(), z.unknown());

/** The Dataset message as clients send it (create body, PATCH body). */
export const datasetSchema = z.strictObject({
  name: outputOnly,
  displayName: z.string().max(512).optional(),
  createTime: outputOnly,
  updateTime: outputOnly,
  createdBy: outputOnly,
  state: outputOnly,
  status: outputOnly,
  exampleCount: int64.optional(),
  format: z.enum(DATASET_FORMATS).optional(),
  userUploaded: looseObject.optional(),
  // Lineage is output-only: Tally sets it (a job's output, a filtered copy), so a client cannot fake it.
  evaluationResult: outputOnly,
  transformed: outputOnly,
  splitted: outputOnly,
  evalProtocol: looseObject.optional(),
  externalUrl: z.string().max(2048).optional(),
  sourceJobName: z.string().max(512).optional(),
  estimatedTokenCount: outputOnly,
  averageTurnCount: outputOnly,
});

export type DatasetBody = z.infer<typeof datasetSchema>;

export const createDatasetBody = z.strictObject({
  dataset: datasetSchema,
  datasetId: z.string({ error: 'datasetId is required' }),
  sourceDatasetId: z.string().max(256).optional(),
  filter: z.string().max(4096).optional(),
  parent: z.string().optional(),
});

export function toDatasetInput(body: DatasetBody): DatasetInput {
  return {
    displayName: body.displayName,
    format: body.format,
    exampleCount: body.exampleCount,
    origin: compact({
      userUploaded: body.userUploaded,
      evalProtocol: body.evalProtocol,
      externalUrl: body.externalUrl,
      sourceJobName: body.sourceJobName,
    }),
  };
}

export function toWireDataset(record: DatasetRecord): Record<string, unknown> {
  return {
    name: `accounts/${record.accountId}/datasets/${record.id}`,
    displayName: record.displayName,
    createTime: record.createTime,
    updateTime: record.updateTime,
    createdBy: record.createdBy,
    state: record.state,
    status: record.status,
    exampleCount: String(record.exampleCount),
    format: record.format,
    averageTurnCount: record.averageTurnCount,
    estimatedTokenCount: String(record.estimatedTokenCount),
    ...record.origin,
  };
}
