import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigInput } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { freshDatabaseUrl } from './databases.js';

export interface TestServer {
  server: RunningServer;
  url: string;
  /** The server's data directory (its own temporary one). */
  dataDir: string;
  accountId: string;
  key: string;
  /** fetch against the server with the account's admin key unless `key` is given. */
  call(method: string, path: string, init?: { body?: unknown; key?: string | null; headers?: Record<string, string> }): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  text: string;
}

/** A real Tally server on a free port, on a fresh database of the given kind. */
export async function startTestServer(kind: 'sqlite' | 'postgres', overrides: Partial<ConfigInput> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tally-test-'));
  const config = loadConfig({
    env: {},
    // Environments are shared by every test server: they are content-addressed, and building the
    // eval-protocol one takes a minute.
    flags: { dataDir, envDir: join(tmpdir(), 'tally-test-envs'), database: await freshDatabaseUrl(kind), port: 0, accountId: 'acme', ...overrides },
  });
  const server = await startServer(config);
  const key = server.bootstrapKey?.key;
  if (!key) throw new Error('test server did not create its account');
  const call: TestServer['call'] = async (method, path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    const useKey = init.key === undefined ? key : init.key;
    if (useKey !== null) headers['authorization'] = `Bearer ${useKey}`;
    let body: BodyInit | undefined;
    if (init.body instanceof FormData || typeof init.body === 'string' || init.body instanceof Uint8Array) body = init.body as BodyInit;
    else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(path.startsWith('http') ? path : `${server.url}${path}`, { method, headers, body });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // Not JSON (a JSONL download): callers read `text`.
    }
    return { status: response.status, headers: response.headers, json, text };
  };
  return { server, url: server.url, dataDir, accountId: 'acme', key, call, close: () => server.close() };
}

/** Polls a resource until `done(resource)` holds; fails with the last state seen. */
export async function waitFor(
  t: TestServer,
  path: string,
  done: (resource: Record<string, unknown>) => boolean,
  timeoutMs = 240_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    last = (await t.call('GET', path)).json;
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`timed out waiting on ${path}; last: ${JSON.stringify(last).slice(0, 500)}`);
}

export function jsonlFile(rows: unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

export function multipartBody(content: string | Buffer, filename = 'data.jsonl'): FormData {
  const form = new FormData();
  form.append('file', new Blob([typeof content === 'string' ? content : new Uint8Array(content)]), filename);
  return form;
}
