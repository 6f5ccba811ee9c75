/**
 * One spawned sandbox child seen as a protocol endpoint: typed messages in and out, a single
 * listener, output capture, and one way to end it (process-group SIGTERM, SIGKILL after 2 s).
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { describeExit, type ProcessFailure } from './exit-reason.js';
import { createFrameReader } from './frame-reader.js';
import { captureOutput, type OutputStats, type OutputStream } from './output-capture.js';
import { encodeParentMessage, parseChildMessage, ProtocolViolation, type ChildMessage, type ParentMessage } from './protocol.js';

/** `inFlight`: known to concern the row being scored (our own watchdog), not a sudden death. */
export type Termination = (ProcessFailure & { inFlight?: boolean }) | { kind: 'cancelled' | 'closed'; message: string };

export interface ConnectionListener {
  onMessage(message: ChildMessage): void;
  /** The child is gone and its fd 3 is drained; called once, with why it ended. */
  onEnd(termination: Termination): void;
}

export interface ConnectionOptions {
  maxFrameBytes: number;
  maxOutputBytes: number;
  onOutput(stream: OutputStream, text: string): void;
  /** bwrap reports signals as 128 + n exit codes. */
  codesMaySignal: boolean;
  killGraceMs?: number;
}

export interface Connection {
  readonly pid: number;
  readonly output: OutputStats;
  readonly ended: boolean;
  /** Last few KiB of stderr, for start-up diagnostics. */
  stderrTail(): string;
  setListener(listener: ConnectionListener | null): void;
  send(message: ParentMessage): void;
  /** Records why (first reason wins), then kills the process group. Resolves once it is gone. */
  terminate(reason: Termination): Promise<void>;
  whenEnded(): Promise<Termination>;
}

const STDERR_TAIL = 4096;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export function connect(child: ChildProcess, options: ConnectionOptions): Connection {
  if (child.pid === undefined) throw new Error('sandbox child has no pid (spawn failed)');
  const pid = child.pid;
  const stdin = child.stdin as Writable;
  const frames = child.stdio[3] as Readable;
  let listener: ConnectionListener | null = null;
  let reason: Termination | undefined;
  let tail = '';
  let endedWith: Termination | undefined;
  const endWaiters: Array<(t: Termination) => void> = [];

  const output = captureOutput({ stdout: child.stdout, stderr: child.stderr }, options.maxOutputBytes, (s, text) => {
    if (s === 'stderr') tail = (tail + text).slice(-STDERR_TAIL);
    options.onOutput(s, text);
  });
  readFrames(frames, options.maxFrameBytes, {
    stopped: () => reason !== undefined,
    deliver: (message) => listener?.onMessage(message),
    fail: (why) => void api.terminate(why),
  });
  frames.on('error', () => undefined);
  stdin.on('error', () => undefined);

  const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (endedWith) return;
    endedWith = reason ?? describeExit(code, signal, options.codesMaySignal);
    reason = endedWith;
    const current = listener;
    listener = null;
    current?.onEnd(endedWith);
    for (const waiter of endWaiters.splice(0)) waiter(endedWith);
  };
  trackExit(child, frames, finish);

  const api: Connection = {
    pid,
    output,
    get ended() {
      return endedWith !== undefined;
    },
    stderrTail: () => tail,
    setListener(next) {
      listener = next;
      if (next && endedWith) next.onEnd(endedWith);
    },
    send(message) {
      if (!endedWith && stdin.writable) stdin.write(encodeParentMessage(message));
    },
    terminate(why) {
      reason ??= why;
      if (!endedWith) {
        killGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), options.killGraceMs ?? 2_000);
        void api.whenEnded().then(() => clearTimeout(timer));
      }
      return api.whenEnded().then(() => undefined);
    },
    whenEnded() {
      return endedWith ? Promise.resolve(endedWith) : new Promise((resolve) => endWaiters.push(resolve));
    },
  };
  return api;
}

/** Parses fd-3 frames until the first failure; a bad or oversized frame ends the process. */
function readFrames(
  frames: Readable,
  maxFrameBytes: number,
  sink: { stopped(): boolean; deliver(message: ChildMessage): void; fail(why: Termination): void },
): void {
  const reader = createFrameReader({
    maxFrameBytes,
    onFrame(line) {
      if (sink.stopped()) return;
      let message: ChildMessage;
      try {
        message = parseChildMessage(line);
      } catch (error) {
        const text = error instanceof ProtocolViolation ? error.message : String(error);
        sink.fail({ kind: 'protocol', message: `evaluator process broke the protocol: ${text}` });
        return;
      }
      sink.deliver(message);
    },
    onOverflow(bytes) {
      sink.fail({
        kind: 'output_too_large',
        message: `evaluator process sent a result frame larger than ${maxFrameBytes} bytes (${bytes} so far)`,
      });
    },
  });
  frames.on('data', (chunk: Buffer) => reader.push(chunk));
}

/** Ends once the child exited AND its frames are read (or 1 s after exit, if a pipe lingers). */
function trackExit(
  child: ChildProcess,
  frames: Readable,
  finish: (code: number | null, signal: NodeJS.Signals | null) => void,
): void {
  let framesClosed = false;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const settle = (): void => {
    if (exit && framesClosed) finish(exit.code, exit.signal);
  };
  frames.once('close', () => {
    framesClosed = true;
    settle();
  });
  child.once('exit', (code, signal) => {
    exit = { code, signal };
    settle();
    setTimeout(() => finish(code, signal), 1_000).unref();
  });
  child.once('error', () => {
    exit ??= { code: null, signal: null };
    framesClosed = true;
    settle();
  });
}
