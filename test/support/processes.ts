import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tally');

export interface TallyProcess {
  child: ChildProcess;
  /** The server URL (serve) or worker id (worker) it printed on start. */
  banner: string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `bin/tally <args>` as a real process and waits for its start line. */
export async function startTally(args: string[], env: Record<string, string>, ready: RegExp): Promise<TallyProcess> {
  const child = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tally ${args.join(' ')} did not start: ${output}`)), 60_000);
    const check = () => {
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? match[0]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`tally ${args.join(' ')} exited (${code}): ${output}`)));
  });
  return {
    child,
    banner,
    output: () => output,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** A minimal client of a Tally started as a process: JSON in and out, multipart for FormData. */
export function apiClient(base: () => string, key: string) {
  return async (method: string, path: string, body?: unknown): Promise<Record<string, any>> => {
    const isForm = body instanceof FormData;
    const response = await fetch(`${base()}${path}`, {
      method,
      headers: isForm ? { authorization: `Bearer ${key}` } : { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as Record<string, any>;
  };
}

/** Polls `probe` until it answers something other than undefined. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
