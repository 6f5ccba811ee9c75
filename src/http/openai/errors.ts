import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { toErrorEnvelope } from '../errors.js';

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** The field a Tally message names first (`data_source.source.content[0]: ...`), as OpenAI's `param`. */
function paramOf(message: string): string | null {
  const match = /^([A-Za-z_][\w.[\]]*): /.exec(message);
  return match && match[1] !== 'body' ? match[1]! : null;
}

function typeOf(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

/** The OpenAI face's error body, from the same status and message as the Fireworks face's envelope. */
export function toOpenAiError(error: unknown): { status: number; headers: Record<string, string>; body: OpenAiErrorBody } {
  const envelope = toErrorEnvelope(error);
  const code = Object.entries({ 400: 'invalid_request', 401: 'invalid_api_key', 403: 'permission_denied', 404: 'not_found', 409: 'conflict', 429: 'rate_limit_exceeded' })
    .find(([status]) => Number(status) === envelope.status)?.[1] ?? (envelope.status >= 500 ? 'server_error' : null);
  const { message } = envelope.body;
  return { status: envelope.status, headers: envelope.headers, body: { error: { message, type: typeOf(envelope.status), param: paramOf(message), code } } };
}

export function openAiErrorHandler(onInternalError?: (error: unknown, request: FastifyRequest) => void) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = toOpenAiError(error);
    if (mapped.status >= 500) onInternalError?.(error, request);
    return reply.status(mapped.status).headers(mapped.headers).send(mapped.body);
  };
}
