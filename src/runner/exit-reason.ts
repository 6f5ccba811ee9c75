import { constants } from 'node:os';
import type { ProcessFailureKind } from './protocol.js';

export interface ProcessFailure {
  kind: ProcessFailureKind;
  message: string;
}

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

/**
 * Why the child exited on its own. bwrap reports a child killed by a signal as exit code
 * 128 + signal, so under bubblewrap such codes are read as signals.
 */
export function describeExit(
  code: number | null,
  signal: NodeJS.Signals | null,
  codesMaySignal: boolean,
): ProcessFailure {
  let name: string | null = signal;
  if (!name && codesMaySignal && code !== null && code > 128 && code < 128 + 65) {
    name = SIGNAL_NAMES.get(code - 128) ?? `signal ${code - 128}`;
  }
  if (name === 'SIGXCPU') {
    return { kind: 'timeout', message: 'evaluator process used up its CPU-time limit (SIGXCPU)' };
  }
  if (name === 'SIGKILL') {
    return { kind: 'memory', message: 'evaluator process was killed with SIGKILL (most likely out of memory)' };
  }
  if (name === 'SIGXFSZ') {
    return { kind: 'output_too_large', message: 'evaluator process wrote a file past its size limit (SIGXFSZ)' };
  }
  if (name) return { kind: 'crash', message: `evaluator process exited with signal ${name}` };
  return { kind: 'crash', message: `evaluator process exited with code ${code ?? 'unknown'}` };
}
