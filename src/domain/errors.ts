/**
 * One closed set of error codes (google.rpc.Code), one error class, one mapping to HTTP.
 * The domain never speaks HTTP: it throws `ApiError` with a code; `http/` turns the code into a
 * status with `httpStatusOf` and builds the wire envelope.
 */

export const ERROR_CODES = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The HTTP status of every code, as grpc-gateway maps them (reference §0). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

export interface ApiErrorOptions {
  code: ErrorCode;
  message: string;
  /** Extra headers the transport should send (e.g. Retry-After); kept transport-neutral. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;

  constructor({ code, message, retryAfterSeconds, cause }: ApiErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ApiError';
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const invalidArgument = (message: string): ApiError =>
  new ApiError({ code: 'INVALID_ARGUMENT', message });
export const notFound = (message: string): ApiError => new ApiError({ code: 'NOT_FOUND', message });
export const alreadyExists = (message: string): ApiError =>
  new ApiError({ code: 'ALREADY_EXISTS', message });
export const failedPrecondition = (message: string): ApiError =>
  new ApiError({ code: 'FAILED_PRECONDITION', message });
export const permissionDenied = (message: string): ApiError =>
  new ApiError({ code: 'PERMISSION_DENIED', message });
export const unauthenticated = (message: string): ApiError =>
  new ApiError({ code: 'UNAUTHENTICATED', message });

/** Structural check, so an ApiError from another copy of this module still counts. */
export function isApiError(value: unknown): value is ApiError {
  return (
    value instanceof Error &&
    typeof (value as Partial<ApiError>).code === 'string' &&
    (value as unknown as { code: string }).code in ERROR_CODES
  );
}

/** Normalises anything thrown into an Error, keeping the original as `cause`. */
export function coerceError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  return new Error(`Non-error thrown: ${safeDescribe(value)}`, { cause: value });
}

function safeDescribe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
