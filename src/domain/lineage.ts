/**
 * A dataset's lineage: the chain of datasets it was made from. A filtered copy (`transformed`)
 * or a split chunk (`splitted`) names its source dataset; a job's output (`evaluationResult`)
 * names the job, whose input dataset is the parent.
 */
import type { DatasetOrigin } from './types.js';

export type LineageParent = { kind: 'dataset'; datasetId: string } | { kind: 'job'; jobId: string };

/** Longest chain followed: lineage is short in practice, and a bound keeps a cycle from spinning. */
export const MAX_LINEAGE_DEPTH = 32;

export function lineageParentOf(origin: DatasetOrigin, accountId: string): LineageParent | undefined {
  const source = origin.transformed?.sourceDatasetId ?? origin.splitted?.sourceDatasetId;
  if (source !== undefined) {
    const id = idWithinAccount(source, accountId, 'datasets');
    return id === undefined ? undefined : { kind: 'dataset', datasetId: id };
  }
  const jobId = origin.evaluationResult?.evaluationJobId;
  if (jobId === undefined) return undefined;
  const id = idWithinAccount(jobId, accountId, 'evaluationJobs');
  return id === undefined ? undefined : { kind: 'job', jobId: id };
}

/** `x` or `accounts/{accountId}/{collection}/x` -> `x`; another account's name -> undefined. */
function idWithinAccount(value: string, accountId: string, collection: string): string | undefined {
  if (!value.includes('/')) return value;
  const parts = value.split('/');
  return parts.length === 4 && parts[0] === 'accounts' && parts[1] === accountId && parts[2] === collection ? parts[3] : undefined;
}
