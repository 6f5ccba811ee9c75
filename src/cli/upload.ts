import { statSync } from 'node:fs';
import { putFile, type ApiClient } from './api-client.js';
import { bar, formatBytes, StatusLine, type Output } from './terminal.js';

/**
 * The signed-URL upload both datasets and evaluators use: ask for a URL for one file, stream the
 * file to it with a byte progress bar, then `:validateUpload`.
 */
export async function uploadThroughSignedUrl(
  api: ApiClient,
  output: Output,
  resourcePath: string,
  file: string,
  filename: string,
): Promise<void> {
  const size = statSync(file).size;
  const endpoint = await api.call('POST', `${resourcePath}:getUploadEndpoint`, { filenameToSize: { [filename]: String(size) } });
  const url = (endpoint['filenameToSignedUrls'] as Record<string, string> | undefined)?.[filename];
  if (!url) throw new Error(`${resourcePath}:getUploadEndpoint returned no URL for ${filename}`);
  const status = new StatusLine(output);
  const draw = (sent: number) =>
    status.update(`uploading ${filename} ${bar(size ? sent / size : 1)} ${formatBytes(sent)} / ${formatBytes(size)}`, `uploading ${filename} (${formatBytes(size)})`);
  draw(0);
  let lastDraw = 0;
  await putFile(url, file, (sent) => {
    // Redrawing on every chunk would flood the terminal; ten times a second is enough.
    const now = Date.now();
    if (now - lastDraw >= 100 || sent === size) {
      lastDraw = now;
      draw(sent);
    }
  }).finally(() => status.done());
  await api.call('POST', `${resourcePath}:validateUpload`, {});
}
