import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build:web` writes the UI. */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Paths that belong to the API, never to the UI: unknown ones stay JSON 404s. */
const API_PREFIXES = ['/v1/', '/signed/', '/openapi.json', '/healthz', '/verifyApiKey'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tally</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Tally</h1>
<p>The API is running. The web UI has not been built yet: run <code>npm run build:web</code>
and reload this page.</p>
</body></html>
`;

/**
 * Serves the built UI (`web/dist`) at `/`: files as they are, and index.html for client-side
 * routes. API paths are left to the API's not-found handler.
 */
export function registerWebUi(app: FastifyInstance, options: { distDir: string }): void {
  const root = resolve(options.distDir);
  // `//v1/...` is no UI route: repeated slashes are collapsed before the check.
  const isApiPath = (rawPath: string) => {
    const path = rawPath.replace(/\/{2,}/g, '/');
    return API_PREFIXES.some((prefix) => path === prefix.replace(/\/$/, '') || path.startsWith(prefix));
  };

  const sendFile = (reply: FastifyReply, file: string, size: number) => {
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const immutable = file.startsWith(join(root, 'assets') + sep);
    return reply
      .header('content-type', type)
      .header('content-length', size)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(createReadStream(file));
  };

  const sendIndex = (reply: FastifyReply) => {
    const index = join(root, 'index.html');
    const stat = statIfFile(index);
    if (!stat) return reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT);
    return sendFile(reply, index, stat.size);
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const rawPath = request.url.split('?')[0] ?? '/';
    if (isApiPath(rawPath)) return reply.callNotFound();
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return reply.code(400).header('content-type', 'text/plain; charset=utf-8').send('bad path');
    }
    if (isApiPath(path)) return reply.callNotFound();
    if (path.includes('\0') || path.split(/[\\/]/).includes('..')) {
      return reply.code(400).header('content-type', 'text/plain; charset=utf-8').send('bad path');
    }
    if (path === '/' || path === '/index.html') return sendIndex(reply);
    const file = resolve(root, '.' + path);
    if (!file.startsWith(root + sep)) return reply.code(400).header('content-type', 'text/plain; charset=utf-8').send('bad path');
    const stat = statIfFile(file);
    if (stat) return sendFile(reply, file, stat.size);
    // A missing file (it has an extension) is a 404; anything else is a client-side route.
    if (extname(path) !== '') return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('not found');
    return sendIndex(reply);
  };

  app.get('/', handler);
  app.get('/*', handler);
}

function statIfFile(path: string): { size: number } | undefined {
  try {
    if (!existsSync(path)) return undefined;
    const stat = statSync(path);
    return stat.isFile() ? { size: stat.size } : undefined;
  } catch {
    return undefined;
  }
}
