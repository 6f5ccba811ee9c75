import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { ApiError, invalidArgument, notFound } from '../domain/errors.js';
import type { Principal } from '../domain/types.js';
import type { Services } from '../services/index.js';
import type { RateLimiter } from '../services/rate-limit.js';
import { answerClientError } from './client-errors.js';
import { toErrorEnvelope } from './errors.js';
import { buildOpenApi } from './openapi.js';
import type { AnyRouteSpec } from './route.js';
import { registerRoutes } from './router.js';
import { accountRoutes } from './routes/accounts.js';
import { datasetRoutes } from './routes/datasets.js';
import { evaluatorRoutes } from './routes/evaluators.js';
import { comparisonRoutes } from './routes/comparisons.js';
import { jobRoutes } from './routes/jobs.js';
import { leaderboardRoutes } from './routes/leaderboards.js';
import { secretRoutes } from './routes/secrets.js';
import { signedUrlRoutes } from './routes/signed-urls.js';
import { registerWebUi, WEB_DIST_DIR } from './web.js';
import { openAiErrorHandler } from './openai/errors.js';
import { openAiEvalRoutes } from './openai/routes.js';

export interface HttpOptions {
  /** Base URL put into signed URLs; when absent, the URL the client used. */
  publicBaseUrl?: string;
  /** Largest JSON body, in bytes. @default 32 MiB */
  jsonBodyLimit?: number;
  /** Largest uploaded file, in bytes. @default 1 GiB */
  maxUploadBytes?: number;
  version?: string;
  /** Counts every request made with an API key (signed URLs carry no key and are not counted). */
  rateLimiter?: RateLimiter;
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
  /** Receives one line per failed request with an unexpected (500) error. */
  onInternalError?: (error: unknown, request: FastifyRequest) => void;
}

/** The HTTP adapter: routes parse, call one service, map the result. */
export async function buildHttpApp(services: Services, options: HttpOptions = {}): Promise<FastifyInstance> {
  const { jsonBodyLimit = 32 * 1024 ** 2, maxUploadBytes = 1024 ** 3, version = '0.1.0' } = options;
  const app = createFastify({ bodyLimit: jsonBodyLimit, tls: options.tls });
  await app.register(multipart, { limits: { fileSize: maxUploadBytes, files: 1, fields: 16 }, throwFileSizeLimit: true });

  app.removeContentTypeParser(['application/json']);
  // Decoded strictly: a lenient decode would store U+FFFD in place of the client's bytes.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, raw, done) => {
    let text: string;
    try {
      text = utf8.decode(raw as Buffer);
    } catch {
      return done(invalidArgument('body: not valid UTF-8'), undefined);
    }
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error: unknown) {
      done(invalidArgument(`body: not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
  // Streams (signed-URL PUTs) are handed to the route unread, whatever type the client claims.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.setErrorHandler((error, request, reply) => {
    const envelope = toErrorEnvelope(error);
    if (envelope.status >= 500) options.onInternalError?.(error, request);
    return reply.status(envelope.status).headers(envelope.headers).send(envelope.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const envelope = toErrorEnvelope(notFound(`no route for ${request.method} ${request.url.split('?')[0]}`));
    return reply.status(envelope.status).send(envelope.body);
  });

  const routes: AnyRouteSpec[] = [
    ...accountRoutes(services.accounts),
    ...datasetRoutes(services.datasets),
    ...evaluatorRoutes(services.evaluators, services.previews),
    ...jobRoutes(services.jobs),
    ...comparisonRoutes(services.comparisons),
    ...leaderboardRoutes(services.leaderboards, services.jobs),
    ...secretRoutes(services.secrets),
    ...signedUrlRoutes(services.transfers),
  ];
  const openApi = buildOpenApi(routes, version);
  app.get('/openapi.json', () => openApi);
  app.get('/healthz', () => ({ ok: true }));
  const baseUrlOf = (request: FastifyRequest): string =>
    options.publicBaseUrl ?? `${request.protocol}://${request.headers.host ?? 'localhost'}`;
  registerRoutes(app, routes, services.accounts, baseUrlOf, { onAuthenticated: rateLimitHook(options.rateLimiter) });
  // The OpenAI Evals face (docs/openai-evals.md): its own scope, so its errors take OpenAI's body.
  await app.register(async (scope) => {
    scope.setErrorHandler(openAiErrorHandler(options.onInternalError));
    registerRoutes(scope, openAiEvalRoutes(services.openaiEvals), services.accounts, baseUrlOf, { onAuthenticated: rateLimitHook(options.rateLimiter) });
  });
  registerWebUi(app, { distDir: WEB_DIST_DIR });
  return app;
}

/** Plain HTTP, or HTTPS with the given certificate; the routes cannot tell the difference. */
function createFastify({ bodyLimit, tls }: { bodyLimit: number; tls: HttpOptions['tls'] }): FastifyInstance {
  const common = { logger: false, bodyLimit, routerOptions: { maxParamLength: 1024 }, clientErrorHandler: answerClientError } as const;
  if (!tls) return Fastify(common);
  // Fastify types an HTTPS instance by its server class; every route and hook here uses only
  // what both servers share, so it is handled as the plain kind.
  return Fastify({ ...common, https: { cert: tls.cert, key: tls.key } }) as FastifyInstance;
}

function rateLimitHook(limiter: RateLimiter | undefined): ((principal: Principal) => void) | undefined {
  if (!limiter) return undefined;
  return (principal) => {
    const verdict = limiter.take(`${principal.accountId}/${principal.keyId}`);
    if (verdict.allowed) return;
    const { retryAfterSeconds } = verdict;
    throw new ApiError({ code: 'RESOURCE_EXHAUSTED', message: `rate limit of this API key exceeded; retry after ${retryAfterSeconds}s`, retryAfterSeconds });
  };
}
