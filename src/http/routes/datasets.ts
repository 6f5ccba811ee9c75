import { z } from 'zod';
import { applyReadMask } from '../../domain/listing.js';
import type { DatasetService } from '../../services/datasets.js';
import { defineRoute, type AnyRouteSpec } from '../route.js';
import { applyUpdateMask, patchQuery, uploadEndpointBody } from '../update-mask.js';
import { getQuery, listQuery } from '../validation.js';
import { toWireList } from '../wire/common.js';
import { createDatasetBody, datasetSchema, toDatasetInput, toWireDataset } from '../wire/datasets.js';
import { multipartFile } from './uploads.js';

const BASE = '/v1/accounts/{accountId}/datasets';
const ITEM = `${BASE}/{datasetId}`;

const downloadQuery = z.strictObject({
  downloadLineage: z.enum(['true', 'false']).optional(),
  readMask: z.string().optional(),
  /** Tally addition: `csv` signs a URL that streams the rows as CSV. */
  format: z.enum(['jsonl', 'csv'], { error: 'format: expected jsonl or csv' }).optional(),
});

const splitBody = z.strictObject({
  chunkSize: z.number({ error: 'chunkSize is required (rows per chunk dataset)' }).int('chunkSize: expected an integer'),
  parent: z.string().optional(),
});

export function datasetRoutes(datasets: DatasetService): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'POST', path: BASE, operationId: 'CreateDataset', summary: 'Create a dataset', auth: 'account',
      body: createDatasetBody, bodyNames: ['dataset.name', 'dataset.sourceJobName', 'sourceDatasetId'],
      handler: async ({ principal, body }) =>
        toWireDataset(await datasets.create(principal!, {
          datasetId: body.datasetId, dataset: toDatasetInput(body.dataset), sourceDatasetId: body.sourceDatasetId, filter: body.filter,
        })),
    }),
    defineRoute({
      method: 'GET', path: BASE, operationId: 'ListDatasets', summary: 'List datasets', auth: 'account', query: listQuery,
      handler: async ({ params, query }) =>
        toWireList('datasets', await datasets.list(params['accountId']!, query), toWireDataset, query.readMask),
    }),
    defineRoute({
      method: 'GET', path: ITEM, operationId: 'GetDataset', summary: 'Get a dataset', auth: 'account', query: getQuery,
      handler: async ({ params, query }) =>
        applyReadMask(toWireDataset(await datasets.get(params['accountId']!, params['datasetId']!)), query.readMask),
    }),
    defineRoute({
      method: 'PATCH', path: ITEM, operationId: 'UpdateDataset', summary: 'Update a dataset', auth: 'account',
      body: datasetSchema, query: patchQuery, bodyNames: ['name', 'sourceJobName'],
      handler: async ({ params, body, query }) =>
        toWireDataset(await datasets.update(params['accountId']!, params['datasetId']!, toDatasetInput(applyUpdateMask(body, query.updateMask, PATCHABLE)))),
    }),
    defineRoute({
      method: 'DELETE', path: ITEM, operationId: 'DeleteDataset', summary: 'Delete a dataset and its rows', auth: 'account',
      handler: async ({ params }) => {
        await datasets.delete(params['accountId']!, params['datasetId']!);
        return {};
      },
    }),
    defineRoute({
      method: 'POST', path: `${ITEM}:upload`, operationId: 'UploadDatasetFiles', summary: 'Upload a JSONL file (multipart field "file")',
      auth: 'account', rawBody: 'multipart',
      handler: async ({ params, request }) => {
        const file = await multipartFile(request);
        const { bytes } = await datasets.upload(params['accountId']!, params['datasetId']!, file.stream);
        return { id: params['datasetId'], object: 'file', bytes, created_at: Math.floor(Date.now() / 1000), filename: file.filename, purpose: 'fine-tune' };
      },
    }),
    defineRoute({
      method: 'POST', path: `${ITEM}:getUploadEndpoint`, operationId: 'GetDatasetUploadEndpoint',
      summary: 'Get a signed URL to PUT the dataset file to', auth: 'account', body: uploadEndpointBody,
      handler: async ({ params, body, baseUrl }) => ({
        filenameToSignedUrls: await datasets.getUploadEndpoint(params['accountId']!, params['datasetId']!, body.filenameToSize, baseUrl),
      }),
    }),
    defineRoute({
      method: 'POST', path: `${ITEM}:validateUpload`, operationId: 'ValidateDatasetUpload',
      summary: 'Make the file PUT to the signed URL the dataset\'s rows', auth: 'account', body: z.strictObject({}),
      handler: async ({ params }) => {
        await datasets.validateUpload(params['accountId']!, params['datasetId']!);
        return {};
      },
    }),
    defineRoute({
      method: 'POST', path: `${ITEM}:splitDataset`, operationId: 'SplitDataset',
      summary: 'Cut a READY dataset into datasets of chunkSize rows (at least 200), in order', auth: 'account', body: splitBody,
      handler: async ({ params, principal, body }) => {
        const split = await datasets.split(principal!, params['datasetId']!, body.chunkSize);
        return {
          chunkDatasetNames: split.chunkDatasetIds.map((id) => `accounts/${params['accountId']}/datasets/${id}`),
          chunksCreated: split.chunkDatasetIds.length,
          totalExamples: String(split.totalExamples),
        };
      },
    }),
    defineRoute({
      method: 'GET', path: `${ITEM}:getDownloadEndpoint`, operationId: 'GetDatasetDownloadEndpoint',
      summary: 'Get signed URLs that stream the rows back as JSONL', auth: 'account', query: downloadQuery,
      handler: async ({ params, query, baseUrl }) => ({
        filenameToSignedUrls: await datasets.getDownloadEndpoint(params['accountId']!, params['datasetId']!, baseUrl, {
          format: query.format, lineage: query.downloadLineage === 'true',
        }),
      }),
    }),
  ];
}

const PATCHABLE: ReadonlySet<string> = new Set(Object.keys(datasetSchema.shape));
