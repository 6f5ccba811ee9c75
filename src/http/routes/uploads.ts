import type { FastifyRequest } from 'fastify';
import { invalidArgument } from '../../domain/errors.js';

/** The multipart field `file` of a request, as a stream; errors name what is missing. */
export async function multipartFile(request: FastifyRequest): Promise<{ filename: string; stream: AsyncIterable<Uint8Array> }> {
  if (!request.isMultipart()) throw invalidArgument('body: expected multipart/form-data with a field "file"');
  for await (const part of request.parts()) {
    if (part.type === 'file' && part.fieldname === 'file') return { filename: part.filename, stream: part.file };
    if (part.type === 'file') part.file.resume();
  }
  throw invalidArgument('file: the multipart body has no field "file"');
}
