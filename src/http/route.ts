import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Principal } from '../domain/types.js';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

/**
 * - `account`: a key of the account named by `{accountId}` in the path.
 * - `account-admin`: the same, with the admin role.
 * - `key`: any valid key (e.g. /verifyApiKey).
 * - `none`: no key (signed URLs, which carry their own capability, and /openapi.json).
 */
export type AuthRule = 'account' | 'account-admin' | 'key' | 'none';

export interface RouteContext<B, Q> {
  params: Record<string, string>;
  body: B;
  query: Q;
  /** Present whenever the route's auth rule is not `none`. */
  principal: Principal | undefined;
  /** The URL the client reached the server at, for the signed URLs the server hands out. */
  baseUrl: string;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteSpec<B = unknown, Q = unknown> {
  method: HttpMethod;
  /** OpenAPI-style template; a custom method ends in `:verb`, e.g. `/datasets/{datasetId}:upload`. */
  path: string;
  operationId: string;
  summary: string;
  auth: AuthRule;
  /** JSON body schema. Absent for routes whose body is a stream (`rawBody`). */
  body?: z.ZodType<B>;
  rawBody?: 'multipart' | 'octet-stream';
  /** Dotted paths of body fields that carry resource names (`[]` for arrays): another account's are refused. `parent` is always checked. */
  bodyNames?: readonly string[];
  query?: z.ZodType<Q>;
  handler(ctx: RouteContext<B, Q>): Promise<unknown>;
}

/** Erases a spec's body/query types for the registry; `defineRoute` keeps them for the handler. */
export type AnyRouteSpec = RouteSpec<never, never>;

export function defineRoute<B, Q>(spec: RouteSpec<B, Q>): AnyRouteSpec {
  return spec as unknown as AnyRouteSpec;
}
