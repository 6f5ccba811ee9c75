import type { FastifyRequest } from 'fastify';
import { invalidArgument, isApiError } from '../../domain/errors.js';

/** The multipart field `file` of a request, as a stream; errors name what is missing. */
export async function multipartFile(request: FastifyRequest): Promise<{ filename: string; stream: AsyncIterable<Uint8Array> }> {
  if (!request.isMultipart()) throw invalidArgument('body: expected multipart/form-data with a field "file"');
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file' && part.fieldname === 'file') return { filename: part.filename, stream: part.file };
      if (part.type === 'file') part.file.resume();
    }
  } catch (error: unknown) {
    // The multipart parser rejects a malformed body (no boundary, bad part headers) with a plain
    // Error; errors with a statusCode (limits) are mapped by http/errors.ts already.
    if (isApiError(error) || (error as { statusCode?: unknown }).statusCode !== undefined) throw error;
    throw invalidArgument(`body: not a valid multipart/form-data body (${(error as Error).message})`);
  }
  throw invalidArgument('file: the multipart body has no field "file"');
}
