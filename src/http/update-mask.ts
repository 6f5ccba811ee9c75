import { z } from 'zod';
import { invalidArgument } from '../domain/errors.js';
import { int64 } from './validation.js';

/** `?updateMask=a,b` on PATCH (AIP-134). */
export const patchQuery = z.strictObject({ updateMask: z.string().max(1024).optional() });

/** `:getUploadEndpoint` bodies: `{filenameToSize: {"name": "<bytes>"}}`. */
export const uploadEndpointBody = z.strictObject({
  filenameToSize: z.record(z.string(), z.union([int64, z.number()]), { error: 'filenameToSize is required' }),
  readMask: z.string().optional(),
});

/**
 * AIP-134: with an updateMask only the named fields change (paths in proto snake_case or JSON
 * lowerCamelCase; a sub-path selects its top-level field); without one, every field sent.
 */
export function applyUpdateMask<T extends object>(body: T, updateMask: string | undefined, patchable: ReadonlySet<string>): Partial<T> {
  if (!updateMask || updateMask === '*') return body;
  const out: Record<string, unknown> = {};
  for (const path of updateMask.split(',').map((p) => p.trim()).filter(Boolean)) {
    const top = path.split('.')[0]!.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!patchable.has(top)) throw invalidArgument(`updateMask: unknown field "${path}"; fields: ${[...patchable].join(', ')}`);
    out[top] = (body as Record<string, unknown>)[top];
  }
  return out as Partial<T>;
}
