import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../domain/errors.js';
import type { Principal } from '../domain/types.js';
import type { AccountService } from '../services/accounts.js';
import { refuseForeignNames } from './account-names.js';
import type { AnyRouteSpec } from './route.js';
import { unsupportedMediaType } from './errors.js';
import { MethodTable } from './method-table.js';
import { parseInput } from './validation.js';

interface ParsedPath {
  /** The Fastify path, e.g. `/v1/accounts/:accountId/datasets/:datasetId`. */
  fastifyPath: string;
  /** The custom method after the last path parameter (`upload` in `{datasetId}:upload`). */
  itemVerb: string | undefined;
  /** The name of the last path parameter, which carries `id:verb` on the wire. */
  lastParam: string | undefined;
}

/**
 * grpc-gateway paths put custom methods after a colon (`/datasets/{id}:upload`). Fastify cannot
 * route on a suffix of a parameter, so every spec sharing a method and base path is registered
 * once and dispatched on the verb split off the last parameter. A verb after a static segment
 * (`/evaluators:previewEvaluator`) is a static path with an escaped colon.
 */
export function parseRoutePath(path: string): ParsedPath {
  const itemVerbMatch = /\}:([A-Za-z]+)$/.exec(path);
  const base = itemVerbMatch ? path.slice(0, -(itemVerbMatch[1]!.length + 1)) : path;
  const fastifyPath = base
    .split('/')
    .map((segment) => (segment.startsWith('{') ? `:${segment.slice(1, -1)}` : segment.replaceAll(':', '::')))
    .join('/');
  const params = [...base.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return { fastifyPath, itemVerb: itemVerbMatch?.[1], lastParam: params[params.length - 1] };
}

export interface RouterHooks {
  /** Runs once a request's key is known, before authorization (e.g. to rate-limit per key). */
  onAuthenticated?: ((principal: Principal) => void) | undefined;
}

export function registerRoutes(
  app: FastifyInstance,
  specs: AnyRouteSpec[],
  accounts: AccountService,
  baseUrlOf: (r: FastifyRequest) => string,
  hooks: RouterHooks = {},
): void {
  const groups = new Map<string, { lastParam: string | undefined; byVerb: Map<string, AnyRouteSpec> }>();
  const methods = new MethodTable();
  for (const spec of specs) {
    const parsed = parseRoutePath(spec.path);
    methods.add(parsed.fastifyPath, parsed.lastParam, parsed.itemVerb ?? '', spec.method);
    const key = `${spec.method} ${parsed.fastifyPath}`;
    const group = groups.get(key) ?? { lastParam: parsed.lastParam, byVerb: new Map() };
    group.byVerb.set(parsed.itemVerb ?? '', spec);
    groups.set(key, group);
  }
  for (const [key, group] of groups) {
    const [method, url] = key.split(' ') as [AnyRouteSpec['method'], string];
    app.route({
      method,
      url,
      handler: (request, reply) => dispatch({ request, reply, group: { ...group, methods, url }, accounts, baseUrlOf, hooks }),
    });
  }
  methods.registerMethodNotAllowed(app);
}

async function dispatch({
  request,
  reply,
  group,
  accounts,
  baseUrlOf,
  hooks,
}: {
  request: FastifyRequest;
  reply: FastifyReply;
  group: { lastParam: string | undefined; byVerb: Map<string, AnyRouteSpec>; methods: MethodTable; url: string };
  accounts: AccountService;
  baseUrlOf: (r: FastifyRequest) => string;
  hooks: RouterHooks;
}): Promise<unknown> {
  const params = { ...(request.params as Record<string, string>) };
  let verb = '';
  if (group.lastParam !== undefined) {
    const value = params[group.lastParam] ?? '';
    const colon = value.indexOf(':');
    if (colon >= 0) {
      verb = value.slice(colon + 1);
      params[group.lastParam] = value.slice(0, colon);
    }
  }
  const spec = group.byVerb.get(verb);
  if (!spec && group.methods.allowed(group.url, verb).length > 0) throw group.methods.refusal(request, group.url, group.lastParam);
  if (!spec) throw notFound(verb ? `unknown method ":${verb}" for ${request.method} ${request.url.split('?')[0]}` : `no route for ${request.method} ${request.url.split('?')[0]}`);
  const principal = await authenticate(spec, request, params, accounts, hooks);
  const body = spec.body ? parseInput(spec.body, jsonBodyOf(request), '') : (undefined as never);
  if (spec.body && params['accountId'] !== undefined) refuseForeignNames(body, params['accountId'], spec.bodyNames);
  const query = spec.query ? parseInput(spec.query, request.query ?? {}, '') : (undefined as never);
  const result = await spec.handler({ params, body, query, principal, baseUrl: baseUrlOf(request), request, reply });
  return reply.sent ? reply : result;
}

/** A JSON route's body; absent reads as `{}`. */
function jsonBodyOf(request: FastifyRequest): unknown {
  // A form sent to a JSON route reaches here without a body, which would read as "all defaults".
  if (request.isMultipart()) throw unsupportedMediaType('application/json', 'multipart/form-data');
  // Any other type reaches here as the unread stream (the catch-all parser of app.ts).
  if (isStream(request.body) && request.headers['content-length'] !== '0') {
    throw unsupportedMediaType('application/json', request.headers['content-type'] ?? 'no content type');
  }
  // Only an absent body reads as `{}`: a JSON `null` (or any non-object) is the client's and is refused by the schema.
  return isStream(request.body) || request.body === undefined ? {} : request.body;
}

function isStream(body: unknown): boolean {
  return typeof body === 'object' && body !== null && typeof (body as { pipe?: unknown }).pipe === 'function';
}

async function authenticate(
  spec: AnyRouteSpec,
  request: FastifyRequest,
  params: Record<string, string>,
  accounts: AccountService,
  hooks: RouterHooks,
): Promise<Principal | undefined> {
  if (spec.auth === 'none') return undefined;
  const principal = await accounts.authenticate(request.headers.authorization);
  hooks.onAuthenticated?.(principal);
  if (spec.auth === 'account' || spec.auth === 'account-admin') {
    accounts.authorize(principal, params['accountId'] ?? '', { admin: spec.auth === 'account-admin' });
  }
  return principal;
}
