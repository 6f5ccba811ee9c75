/** Why a sandbox process could not be started; `retryable` tells a runner whether to try again. */
export class SandboxStartError extends Error {
  readonly retryable: boolean;
  readonly reason: 'load_error' | 'load_timeout' | 'exited' | 'spawn_failed';

  constructor(reason: SandboxStartError['reason'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxStartError';
    this.reason = reason;
    // The evaluator's own code failing to load will fail the same way every time.
    this.retryable = reason !== 'load_error';
  }
}

export function isSandboxLoadError(error: unknown): error is SandboxStartError {
  return error instanceof SandboxStartError && error.reason === 'load_error';
}
