/** Helpers shared by the sandbox and runner tests (not part of the module's public face). */
import { readdirSync, readFileSync } from 'node:fs';
import type { SandboxLauncher, SandboxLimits, SandboxSpec } from './types.js';

export const TEST_LIMITS: SandboxLimits = {
  addressSpaceBytes: 1024 * 1024 * 1024,
  cpuSeconds: 60,
  processes: 32,
  fileSizeBytes: 16 * 1024 * 1024,
  openFiles: 256,
};

export const SYSTEM_PYTHON = '/usr/bin/python3';

export interface BoxRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `/usr/bin/python3 -c code` in the box and collects its output. */
export function runPython(
  launcher: SandboxLauncher,
  code: string,
  overrides: Partial<SandboxSpec> = {},
): Promise<BoxRun> {
  const child = launcher.spawn({
    command: [SYSTEM_PYTHON, '-I', '-c', code],
    readOnlyBinds: [],
    cwd: '/tmp',
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    network: false,
    limits: TEST_LIMITS,
    ...overrides,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin?.end();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Pids of live host processes whose real uid is `uid` (to prove nothing outlived its box). */
export function pidsOfUid(uid: number): number[] {
  return pidsOfUidRange(uid, 1);
}

export function pidsOfUidRange(first: number, count: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const match = /^Uid:\s+(\d+)/m.exec(status);
      const state = /^State:\s+(\S)/m.exec(status);
      const uid = Number(match?.[1]);
      if (match && uid >= first && uid < first + count && state?.[1] !== 'Z') pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/**
 * A uid range no other concurrently running test process uses (outside the launcher's
 * default range, keyed on our pid), so leak checks by uid see only our own boxes.
 */
export function privateUidRange(count: number): { first: number; count: number } {
  return { first: 1_000_000 + (process.pid % 100_000) * 100, count: Math.min(count, 100) };
}
