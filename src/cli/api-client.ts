import { createReadStream, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import type { ClientSettings } from './client-config.js';

export type Json = Record<string, unknown>;

/** A thin fetch wrapper: the CLI adds no rules of its own, it relays the server's answers. */
export class ApiClient {
  private accountId: string;

  constructor(private readonly settings: ClientSettings) {
    this.accountId = settings.accountId;
  }

  /** The account named by the settings, else the one the server says the key belongs to. */
  async account(): Promise<string> {
    if (!this.accountId) this.accountId = await verifyApiKey(this.settings.baseUrl, this.settings.apiKey);
    return this.accountId;
  }

  /** `/v1/accounts/{account}/<rest>`. */
  async path(rest: string): Promise<string> {
    return `/v1/accounts/${await this.account()}/${rest}`;
  }

  async resourceName(collection: string, id: string): Promise<string> {
    return id.startsWith('accounts/') ? id : `accounts/${await this.account()}/${collection}/${id}`;
  }

  async call(method: string, path: string, body?: unknown, query?: Record<string, string | number | undefined>): Promise<Json> {
    const url = new URL(`${this.settings.baseUrl}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.settings.apiKey}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await reach(url.toString(), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return readJson(response);
  }

  /** GET a signed URL (no key: the URL is the capability). */
  async fetchSigned(url: string): Promise<Response> {
    const response = await reach(url, {});
    if (!response.ok) await readJson(response);
    return response;
  }
}

export async function verifyApiKey(baseUrl: string, apiKey: string): Promise<string> {
  const response = await reach(`${baseUrl.replace(/\/+$/, '')}/verifyApiKey`, { headers: { authorization: `Bearer ${apiKey}` } });
  await readJson(response);
  const account = response.headers.get('x-fireworks-account-id');
  if (!account) throw new Error(`${baseUrl}/verifyApiKey did not name the key's account (no x-fireworks-account-id header)`);
  return account;
}

async function reach(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new Error(`cannot reach ${new URL(url).origin}: ${cause ?? (error as Error).message}`);
  }
}

/** The JSON body; a non-2xx answer becomes an Error carrying the server's message. */
async function readJson(response: Response): Promise<Json> {
  const text = await response.text();
  let json: Json = {};
  try {
    json = text ? (JSON.parse(text) as Json) : {};
  } catch {
    if (response.ok) throw new Error(`expected JSON from ${response.url}, got: ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const message = typeof json['message'] === 'string' ? json['message'] : text.slice(0, 500) || response.statusText;
    throw new Error(message);
  }
  return json;
}

/**
 * PUTs a file to a signed URL as a stream with an exact Content-Length (the server checks it),
 * reporting bytes sent. node:http rather than fetch: fetch would send a streamed body chunked.
 */
export async function putFile(url: string, file: string, onBytes: (sent: number, total: number) => void): Promise<void> {
  const total = statSync(file).size;
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      onBytes(sent, total);
      callback(null, chunk);
    },
  });
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  await new Promise<void>((resolve, reject) => {
    let answered = false;
    const req = send(url, { method: 'PUT', headers: { 'content-length': String(total), 'content-type': 'application/octet-stream' } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if ((res.statusCode ?? 500) < 300) return resolve();
        const text = Buffer.concat(chunks).toString('utf8');
        let message = text;
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? text;
        } catch {
          // Not JSON: the raw text is the best message there is.
        }
        reject(new Error(message || `upload failed with HTTP ${res.statusCode}`));
      });
    });
    // A server refusing a bad file answers before reading it all; its answer, not EPIPE, is the news.
    req.on('error', (error) => answered || reject(new Error(`upload to ${new URL(url).origin} failed: ${error.message}`)));
    createReadStream(file).on('error', reject).pipe(counter).pipe(req);
  });
}
