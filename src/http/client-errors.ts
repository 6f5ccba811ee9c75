import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_CODES } from '../domain/errors.js';

/**
 * Answers what Node's HTTP parser refuses before any route runs (an over-long URL or header
 * block: 431; a request that is no HTTP: 400; a client too slow: 408) with the API's own
 * `{code, message, details}` body, in place of Fastify's.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = describe(error.code);
  const body = JSON.stringify({ code: ERROR_CODES.INVALID_ARGUMENT, message, details: [] });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function describe(code: string | undefined): [number, string] {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return [431, `request: the URL and headers together are larger than the server accepts (${maxHeaderSize / 1024} KiB); send long values in a body`];
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'request: not received in time'];
  return [400, `request: not a valid HTTP request (${code ?? 'parse error'})`];
}
