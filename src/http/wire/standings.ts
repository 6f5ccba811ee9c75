import { z } from 'zod';
import type { Standing } from '../../domain/standings.js';

export const standingsQuery = z.strictObject({ joinKey: z.string().max(256).optional() });

/** NaN and absent numbers are null on the wire. */
const num = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

export function toWireStanding(accountId: string, s: Standing): Record<string, unknown> {
  const v = s.versusLeader;
  return {
    rank: s.rank,
    evaluationJob: `accounts/${accountId}/evaluationJobs/${s.jobId}`,
    displayName: s.displayName,
    score: num(s.score),
    ci95Low: num(s.ciLow),
    ci95High: num(s.ciHigh),
    tiedWithLeader: s.tiedWithLeader,
    versusLeader: v
      ? { test: v.test, pairs: v.pairs, meanDiff: num(v.meanDiff), ci95Low: num(v.ciLow), ci95High: num(v.ciHigh), pValue: num(v.pValue), pValueHolm: num(v.pValueHolm) }
      : null,
  };
}
