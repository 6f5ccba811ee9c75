/**
 * Limits and member-path rules shared by the tar and zip readers. Every refusal is an ApiError
 * FAILED_PRECONDITION whose message names the member and the problem, because it ends up in
 * the evaluator's build log and the user has to fix their archive from it alone.
 */
import { ApiError } from '../domain/errors.js';

export interface UnpackLimits {
  /** Maximum number of archive members (files, directories and links all count). */
  maxFiles: number;
  /** Maximum bytes written in total, counted while streaming. */
  maxTotalBytes: number;
  /** Maximum bytes of any one file. */
  maxFileBytes: number;
  /** Maximum length of a member path, in characters. */
  maxPathLength: number;
}

export const DEFAULT_UNPACK_LIMITS: UnpackLimits = {
  maxFiles: 10_000,
  maxTotalBytes: 512 * 1024 * 1024,
  maxFileBytes: 128 * 1024 * 1024,
  maxPathLength: 1024,
};

/** Linux refuses longer names with ENAMETOOLONG; saying so up front gives a clearer message. */
const MAX_COMPONENT_BYTES = 255;

export function resolveLimits(partial: Partial<UnpackLimits> | undefined): UnpackLimits {
  const limits = { ...DEFAULT_UNPACK_LIMITS };
  for (const key of Object.keys(limits) as (keyof UnpackLimits)[]) {
    const value = partial?.[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`unpack limit ${key} must be a positive integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}

export function memberError(member: string, problem: string, cause?: unknown): ApiError {
  return new ApiError({
    code: 'FAILED_PRECONDITION',
    message: `archive member ${JSON.stringify(member)}: ${problem}`,
    cause,
  });
}

export function archiveError(problem: string, cause?: unknown): ApiError {
  return new ApiError({ code: 'FAILED_PRECONDITION', message: `archive rejected: ${problem}`, cause });
}

/**
 * Splits a member name into safe path segments, or returns null for the archive root itself
 * (`./`). Refuses absolute paths, `..` anywhere (even `a/../b`: harmless lexically, but an
 * archive that needs it is not one we want to reason about), NUL bytes and over-long names.
 */
export function memberSegments(name: string, limits: UnpackLimits): string[] | null {
  if (name.includes('\0')) throw memberError(name, 'path contains a NUL byte');
  if (name.length > limits.maxPathLength) {
    throw memberError(name, `path is longer than ${limits.maxPathLength} characters`);
  }
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) {
    throw memberError(name, 'absolute paths are not allowed');
  }
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw memberError(name, 'path traversal (..) is not allowed');
  for (const segment of segments) {
    if (Buffer.byteLength(segment) > MAX_COMPONENT_BYTES) {
      throw memberError(name, `a path component is longer than ${MAX_COMPONENT_BYTES} bytes`);
    }
  }
  return segments.length === 0 ? null : segments;
}

/**
 * Resolves a symlink target lexically against the link's directory and returns the segments
 * of the result relative to the destination, or null when it leaves the destination.
 */
export function resolveLinkTarget(linkSegments: string[], target: string): string[] | null {
  if (target.startsWith('/')) return null;
  const resolved = linkSegments.slice(0, -1);
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) return null;
      resolved.pop();
    } else {
      resolved.push(part);
    }
  }
  return resolved;
}

/** Refuses a declared size up front, so an honest bomb is stopped before any byte is written. */
export function checkDeclaredSize(name: string, size: number, bytesSoFar: number, limits: UnpackLimits): void {
  if (size > limits.maxFileBytes) {
    throw memberError(name, `declares ${formatBytes(size)}, more than the per-file limit of ${formatBytes(limits.maxFileBytes)}`);
  }
  if (bytesSoFar + size > limits.maxTotalBytes) {
    throw memberError(name, `unpacking it would pass the total limit of ${formatBytes(limits.maxTotalBytes)}`);
  }
}

export function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  if (mib >= 1) return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
  return `${bytes} bytes`;
}
