import { z } from 'zod';
import { applyReadMask } from '../../domain/listing.js';
import type { EvaluatorService } from '../../services/evaluators.js';
import type { PreviewService } from '../../services/preview.js';
import { defineRoute, type AnyRouteSpec } from '../route.js';
import { applyUpdateMask, patchQuery, uploadEndpointBody } from '../update-mask.js';
import { getQuery, listQuery } from '../validation.js';
import { toWireList } from '../wire/common.js';
import { createEvaluatorBody, evaluatorSchema, toEvaluatorInput, toWireEvaluator } from '../wire/evaluators.js';

const BASE = '/v1/accounts/{accountId}/evaluators';
const ITEM = `${BASE}/{evaluatorId}`;


const evaluatorPatchQuery = patchQuery.extend({
  prepareCodeUpload: z.enum(['true', 'false'], { error: 'prepareCodeUpload must be true or false' }).optional(),
});

const previewBody = {
  sampleData: z.array(z.string().max(1024 * 1024), { error: 'sampleData is required: a list of JSON rows, each as a string' }).max(1000),
  maxSamples: z.number().int().min(0).max(1000).optional(),
};
const previewInlineBody = z.strictObject({ evaluator: evaluatorSchema, ...previewBody, parent: z.string().optional() });
const previewExistingBody = z.strictObject(previewBody);

export function evaluatorRoutes(evaluators: EvaluatorService, previews: PreviewService): AnyRouteSpec[] {
  const create = (flavour: 'v1' | 'v2', path: string, operationId: string) =>
    defineRoute({
      method: 'POST', path, operationId, summary: flavour === 'v2' ? 'Create an evaluator' : 'Create a legacy evaluator (inline code)',
      auth: 'account', body: createEvaluatorBody, bodyNames: ['evaluator.name', 'evaluator.defaultDataset'],
      handler: async ({ principal, body }) =>
        toWireEvaluator(await evaluators.create(principal!, { evaluatorId: body.evaluatorId, evaluator: toEvaluatorInput(body.evaluator), flavour })),
    });
  return [
    create('v2', '/v1/accounts/{accountId}/evaluatorsV2', 'CreateEvaluatorV2'),
    create('v1', BASE, 'CreateEvaluator'),
    defineRoute({
      method: 'POST', path: `${BASE}:previewEvaluator`, operationId: 'PreviewEvaluator',
      summary: 'Build an evaluator given inline and score sample rows now (results, stdout, stderr, runtime)', auth: 'account', body: previewInlineBody, bodyNames: ['evaluator.name', 'evaluator.defaultDataset'],
      handler: async ({ principal, body }) => previews.previewInline(principal!, toEvaluatorInput(body.evaluator), body),
    }),
    defineRoute({
      method: 'POST', path: `${ITEM}:preview`, operationId: 'PreviewExistingEvaluator',
      summary: 'Score sample rows now with an ACTIVE evaluator', auth: 'account', body: previewExistingBody,
      handler: async ({ params, body }) => previews.previewExisting(params['accountId']!, params['evaluatorId']!, body),
    }),
    defineRoute({
      method: 'GET', path: BASE, operationId: 'ListEvaluators', summary: 'List evaluators', auth: 'account', query: listQuery,
      handler: async ({ params, query }) =>
        toWireList('evaluators', await evaluators.list(params['accountId']!, query), toWireEvaluator, query.readMask),
    }),
    defineRoute({
      method: 'GET', path: ITEM, operationId: 'GetEvaluator', summary: 'Get an evaluator (poll it to follow a build)', auth: 'account', query: getQuery,
      handler: async ({ params, query }) =>
        applyReadMask(toWireEvaluator(await evaluators.get(params['accountId']!, params['evaluatorId']!)), query.readMask),
    }),
    defineRoute({
      method: 'PATCH', path: ITEM, operationId: 'UpdateEvaluator',
      summary: 'Update an evaluator; changing requirements, entryPoint or code rebuilds it', auth: 'account',
      body: evaluatorSchema, query: evaluatorPatchQuery, bodyNames: ['name', 'defaultDataset'],
      handler: async ({ params, body, query }) =>
        toWireEvaluator(await evaluators.update(params['accountId']!, params['evaluatorId']!, toEvaluatorInput(applyUpdateMask(body, query.updateMask, PATCHABLE)), {
          prepareCodeUpload: query.prepareCodeUpload === 'true',
        })),
    }),
    defineRoute({
      method: 'DELETE', path: ITEM, operationId: 'DeleteEvaluator', summary: 'Delete an evaluator, its source and build artifacts', auth: 'account',
      handler: async ({ params }) => {
        await evaluators.delete(params['accountId']!, params['evaluatorId']!);
        return {};
      },
    }),
    defineRoute({
      method: 'POST', path: `${ITEM}:getUploadEndpoint`, operationId: 'GetEvaluatorUploadEndpoint',
      summary: 'Get a signed URL to PUT the source archive (.tar.gz, .tgz, .tar or .zip) to', auth: 'account', body: uploadEndpointBody,
      handler: async ({ params, body, baseUrl }) => ({
        filenameToSignedUrls: await evaluators.getUploadEndpoint(params['accountId']!, params['evaluatorId']!, body.filenameToSize, baseUrl),
      }),
    }),
    defineRoute({
      method: 'POST', path: `${ITEM}:validateUpload`, operationId: 'ValidateEvaluatorUpload',
      summary: 'Build the evaluator from the uploaded archive', auth: 'account', body: z.strictObject({}),
      handler: async ({ params }) => {
        await evaluators.validateUpload(params['accountId']!, params['evaluatorId']!);
        return {};
      },
    }),
    defineRoute({
      method: 'GET', path: `${ITEM}:getBuildLogEndpoint`, operationId: 'GetEvaluatorBuildLogEndpoint',
      summary: 'Get a signed URL to the build log', auth: 'account', query: getQuery,
      handler: async ({ params, baseUrl }) => ({
        buildLogSignedUri: await evaluators.getBuildLogEndpoint(params['accountId']!, params['evaluatorId']!, baseUrl),
      }),
    }),
    defineRoute({
      method: 'GET', path: `${ITEM}:getSourceCodeSignedUrl`, operationId: 'GetEvaluatorSourceCodeSignedUrl',
      summary: 'Get a signed URL to the uploaded source archive', auth: 'account', query: getQuery,
      handler: async ({ params, baseUrl }) => ({
        filenameToSignedUrls: await evaluators.getSourceCodeSignedUrl(params['accountId']!, params['evaluatorId']!, baseUrl),
      }),
    }),
  ];
}

const PATCHABLE: ReadonlySet<string> = new Set(Object.keys(evaluatorSchema.shape));
