import { z } from 'zod';
import { MAX_RUNS, ROLLOUT_APIS, type CompletionParams, type RolloutInput, type RolloutSettings } from '../../domain/rollout.js';

/**
 * `evaluationJob.rollout` (a Tally extension, docs/api.md): call a model for every row before
 * scoring it. Every field is optional here: an eval-protocol evaluator may declare the endpoint,
 * model and completion params, and the service says what is still missing.
 */
const completionParamsSchema = z.strictObject({
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  stop: z.union([z.string().max(256), z.array(z.string().max(256)).max(16)]).optional(),
  seed: z.number().int().min(-(2 ** 53)).max(2 ** 53).optional(),
  extra_body: z.record(z.string(), z.unknown()).optional(),
});

export const rolloutSchema = z.strictObject({
  api: z.enum(ROLLOUT_APIS).optional(),
  baseUrl: z.string().max(2048).optional(),
  model: z.string().max(512).optional(),
  apiKeySecret: z.string().max(256).optional(),
  completionParams: completionParamsSchema.optional(),
  numRuns: z.number().int().min(1).max(MAX_RUNS).optional(),
  maxConcurrentRollouts: z.number().int().min(1).max(1024).optional(),
  requestTimeoutSeconds: z.number().positive().max(3600).optional(),
  maxRetries: z.number().int().min(0).max(20).optional(),
  passThreshold: z.number().optional(),
});

type WireRollout = z.infer<typeof rolloutSchema>;

export function toRolloutInput(wire: WireRollout): RolloutInput {
  const { extra_body: extraBody, ...named } = wire.completionParams ?? {};
  const input: RolloutInput = {
    api: wire.api, baseUrl: wire.baseUrl, model: wire.model, apiKeySecret: wire.apiKeySecret, numRuns: wire.numRuns,
    maxConcurrentRollouts: wire.maxConcurrentRollouts, maxRetries: wire.maxRetries, passThreshold: wire.passThreshold,
    requestTimeoutMs: wire.requestTimeoutSeconds === undefined ? undefined : wire.requestTimeoutSeconds * 1000,
    params: dropUndefined({ ...named, extraBody }) as CompletionParams,
  };
  return dropUndefined({ ...input }) as RolloutInput;
}

export function toWireRollout(r: RolloutSettings): Record<string, unknown> {
  const { extraBody, ...named } = r.params;
  return {
    api: r.api ?? 'chat.completions', baseUrl: r.baseUrl, model: r.model, apiKeySecret: r.apiKeySecret,
    completionParams: { ...named, ...(extraBody ? { extra_body: extraBody } : {}) },
    numRuns: r.numRuns, maxConcurrentRollouts: r.maxConcurrentRollouts, requestTimeoutSeconds: r.requestTimeoutMs / 1000,
    maxRetries: r.maxRetries, passThreshold: r.passThreshold,
  };
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
