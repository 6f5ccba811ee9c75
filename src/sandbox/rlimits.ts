import type { SandboxLimits } from './types.js';

/** `prlimit` arguments that set soft = hard for each limit, then exec the rest of argv. */
export function prlimitArgs(limits: SandboxLimits): string[] {
  const whole = (name: string, value: number): string => {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`sandbox limit ${name} must be a non-negative integer, got ${value}`);
    }
    return `--${name}=${value}`;
  };
  return [
    whole('as', limits.addressSpaceBytes),
    whole('cpu', limits.cpuSeconds),
    whole('nproc', limits.processes),
    whole('fsize', limits.fileSizeBytes),
    whole('nofile', limits.openFiles),
    '--',
  ];
}

export function stdioFor(extraFds: number | undefined): Array<'pipe'> {
  return Array.from({ length: 3 + (extraFds ?? 0) }, () => 'pipe' as const);
}
