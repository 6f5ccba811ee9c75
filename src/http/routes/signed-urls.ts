import { Readable } from 'node:stream';
import { SIGNED_URL_PREFIX } from '../../services/signed-urls.js';
import type { TransferService } from '../../services/transfers.js';
import { defineRoute, type AnyRouteSpec } from '../route.js';

const PATH = `${SIGNED_URL_PREFIX}/{token}/{filename}`;

/**
 * The URLs Tally signs stand in for cloud-storage signed URLs: no API key, the token is the
 * capability. Uploads are single use and expire; downloads expire.
 */
export function signedUrlRoutes(transfers: TransferService): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'PUT', path: PATH, operationId: 'PutSignedUpload', summary: 'Upload the bytes of a file to a signed URL',
      auth: 'none', rawBody: 'octet-stream',
      handler: async ({ params, request }) => {
        const contentLength = request.headers['content-length'];
        const lengthRange = request.headers['x-goog-content-length-range'];
        await transfers.receive(params['token']!, {
          source: request.body as AsyncIterable<Uint8Array>,
          contentLength: contentLength === undefined ? undefined : Number(contentLength),
          lengthRange: Array.isArray(lengthRange) ? lengthRange[0] : lengthRange,
        }, params['filename']);
        return {};
      },
    }),
    defineRoute({
      method: 'GET', path: PATH, operationId: 'GetSignedDownload', summary: 'Download a file from a signed URL', auth: 'none',
      handler: async ({ params, reply }) => {
        const download = await transfers.open(params['token']!, params['filename']);
        reply.header('content-type', download.contentType);
        reply.header('content-disposition', `attachment; filename="${download.filename}"`);
        return reply.send(Readable.from(download.body));
      },
    }),
  ];
}
