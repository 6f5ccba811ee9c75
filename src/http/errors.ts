import { ApiError, coerceError, ERROR_CODES, HTTP_STATUS, isApiError, type ErrorCode } from '../domain/errors.js';

export interface ErrorEnvelope {
  status: number;
  headers: Record<string, string>;
  body: { code: number; message: string; details: unknown[] };
}

/**
 * The one place an error becomes a wire body: google.rpc.Status JSON with the HTTP status of its
 * code. Unexpected errors answer INTERNAL with a generic message; their text goes to the log only.
 */
export function toErrorEnvelope(error: unknown): ErrorEnvelope {
  const apiError = isApiError(error) ? error : fromFrameworkError(error);
  if (apiError instanceof HttpStatusError) {
    return { status: apiError.status, headers: { ...apiError.headers }, body: { code: ERROR_CODES[apiError.code], message: apiError.message, details: [] } };
  }
  const code: ErrorCode = apiError?.code ?? 'INTERNAL';
  const message = apiError?.message ?? 'internal error';
  const headers: Record<string, string> = {};
  // Official SDK clients retry 409s unless told not to: a conflict will not go away on retry.
  if (HTTP_STATUS[code] === 409) headers['x-should-retry'] = 'false';
  if (apiError?.retryAfterSeconds !== undefined) headers['retry-after'] = String(apiError.retryAfterSeconds);
  return { status: HTTP_STATUS[code], headers, body: { code: ERROR_CODES[code], message, details: [] } };
}

/** Fastify's own errors (body too large, bad content type, ...) carry a statusCode. */
function fromFrameworkError(error: unknown): ApiError | undefined {
  const err = coerceError(error) as Error & { statusCode?: number; code?: string };
  const status = err.statusCode;
  if (status === undefined || status >= 500) return undefined;
  // Fastify refuses a content type it has no parser for (an empty one) before any route runs.
  if (status === 415) return unsupportedMediaType('application/json', 'an empty or unparseable content type');
  // 413 maps to INVALID_ARGUMENT, not RESOURCE_EXHAUSTED: a 429 would make SDK clients retry.
  const code: ErrorCode = status === 404 ? 'NOT_FOUND' : status === 401 ? 'UNAUTHENTICATED' : 'INVALID_ARGUMENT';
  const message = status === 413 ? `body: larger than the server accepts (${err.message})` : err.message;
  return new ApiError({ code, message, cause: err });
}

/**
 * An error of HTTP itself, whose status no google.rpc code maps to (405, 415, 431): it keeps the
 * API's envelope and code, with the status and headers HTTP asks for. Lives in http/: the
 * domain never sees it.
 */
export class HttpStatusError extends ApiError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, options: { code: ErrorCode; message: string; headers?: Record<string, string> }) {
    super({ code: options.code, message: options.message });
    this.status = status;
    this.headers = options.headers ?? {};
  }
}

/** 405, as grpc-gateway answers it (UNIMPLEMENTED), with the methods the path does have. */
export function methodNotAllowed(method: string, path: string, allowed: readonly string[]): HttpStatusError {
  const allow = allowed.join(', ');
  return new HttpStatusError(405, { code: 'UNIMPLEMENTED', message: `method ${method} is not allowed on ${path}; allowed: ${allow}`, headers: { allow } });
}

/** 415: a body of another type than the one the route reads. */
export function unsupportedMediaType(expected: string, got: string): HttpStatusError {
  return new HttpStatusError(415, { code: 'INVALID_ARGUMENT', message: `body: expected content type ${expected}, got ${got}` });
}
