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
  // 413 maps to INVALID_ARGUMENT, not RESOURCE_EXHAUSTED: a 429 would make SDK clients retry.
  const code: ErrorCode = status === 404 ? 'NOT_FOUND' : status === 401 ? 'UNAUTHENTICATED' : 'INVALID_ARGUMENT';
  const message = status === 413 ? `body: larger than the server accepts (${err.message})` : err.message;
  return new ApiError({ code, message, cause: err });
}
