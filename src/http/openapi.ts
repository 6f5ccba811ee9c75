import { z } from 'zod';
import { ID_PATTERN } from '../domain/names.js';
import { BINARY_RESPONSES, RESPONSE_SCHEMAS } from './response-schemas.js';
import type { AnyRouteSpec } from './route.js';

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function buildOpenApi(specs: AnyRouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const entry = (paths[spec.path] ??= {});
    entry[spec.method.toLowerCase()] = operation(spec);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Tally API (Fireworks-compatible evaluation platform)', version },
    components: { securitySchemes: { BearerAuth: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

/** What each path parameter may be: resource ids as names.ts checks them, signed-URL tokens. */
function pathParameterSchema(name: string): Record<string, unknown> {
  if (name === 'token') return { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' };
  if (name === 'filename') return { type: 'string', minLength: 1 };
  return { type: 'string', pattern: ID_PATTERN.source };
}

function operation(spec: AnyRouteSpec): Record<string, unknown> {
  const pathParams = [...spec.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1], in: 'path', required: true, schema: pathParameterSchema(m[1]!),
  }));
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.auth === 'none' ? { security: [] } : { security: [{ BearerAuth: [] }] }),
    parameters: [...pathParams, ...queryParameters(spec)],
    ...(requestBody(spec) ?? {}),
    responses: {
      '200': { description: 'OK', content: successContent(spec.operationId) },
      default: { description: 'google.rpc.Status error body', content: { 'application/json': { schema: ERROR_SCHEMA } } },
    },
  };
}

function successContent(operationId: string): Record<string, unknown> {
  if (BINARY_RESPONSES.has(operationId)) return { '*/*': { schema: { type: 'string', format: 'binary' } } };
  return { 'application/json': { schema: RESPONSE_SCHEMAS[operationId] ?? { type: 'object' } } };
}

const ERROR_SCHEMA = {
  type: 'object',
  properties: { code: { type: 'integer' }, message: { type: 'string' }, details: { type: 'array', items: {} } },
  required: ['code', 'message', 'details'],
};

function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json['$schema'];
  return json;
}

function queryParameters(spec: AnyRouteSpec): unknown[] {
  if (!spec.query) return [];
  const json = toJsonSchema(spec.query) as { properties?: Record<string, unknown> };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));
}

function requestBody(spec: AnyRouteSpec): { requestBody: unknown } | undefined {
  if (spec.rawBody === 'multipart') {
    return {
      requestBody: {
        required: true,
        content: { 'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] } } },
      },
    };
  }
  if (spec.rawBody === 'octet-stream') {
    return { requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } } };
  }
  if (!spec.body) return undefined;
  return { requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(spec.body) } } } };
}
