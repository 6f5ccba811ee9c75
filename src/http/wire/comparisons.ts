import { z } from 'zod';
import { invalidArgument } from '../../domain/errors.js';
import { ROW_STATUSES, type ComparisonSummary, type RowStatus } from '../../domain/comparison.js';
import type { PairedSummary } from '../../domain/paired-stats.js';
import type { ComparedRow } from '../../services/comparisons.js';

export const compareQuery = z.strictObject({
  baseline: z.string().max(512).optional(),
  joinKey: z.string().max(256).optional(),
  status: z.string().max(256).optional(),
  orderBy: z.enum(['diff', 'diff desc', 'index'], { error: 'orderBy: expected "diff" (regressions first), "diff desc" or "index"' }).optional(),
  pageSize: z.coerce.number().int('pageSize must be an integer').min(0, 'pageSize must not be negative').optional(),
  pageToken: z.string().max(4096).optional(),
  view: z.enum(['BASIC', 'FULL'], { error: 'view: expected BASIC or FULL' }).optional(),
});

/** `status=regressed,improved` (or `changed` for both); empty = every row. */
export function parseStatuses(value: string | undefined): RowStatus[] {
  if (!value) return [];
  const out = new Set<RowStatus>();
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (part === 'changed') {
      out.add('regressed').add('improved');
      continue;
    }
    if (!(ROW_STATUSES as readonly string[]).includes(part)) {
      throw invalidArgument(`status: "${part}" is not one of ${[...ROW_STATUSES, 'changed'].join(', ')}`);
    }
    out.add(part as RowStatus);
  }
  return [...out].sort();
}

/** NaN (no pairs) is null on the wire. */
const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function toWirePaired(s: PairedSummary): Record<string, unknown> {
  return {
    pairs: s.pairs, baselineMean: num(s.baselineMean), candidateMean: num(s.candidateMean), meanDiff: num(s.meanDiff),
    ci95Low: num(s.ciLow), ci95High: num(s.ciHigh), pValue: num(s.pValue), test: s.test,
  };
}

export function toWireComparisonSummary(s: ComparisonSummary): Record<string, unknown> {
  return {
    rows: s.rows, improved: s.counts.improved, regressed: s.counts.regressed, unchanged: s.counts.unchanged,
    onlyInBaseline: s.counts.onlyBaseline, onlyInCandidate: s.counts.onlyCandidate,
    score: toWirePaired(s.score),
    metrics: Object.fromEntries(Object.entries(s.metrics).map(([name, m]) => [name, toWirePaired(m)])),
  };
}

export function toWireComparedRow(row: ComparedRow): Record<string, unknown> {
  return row as unknown as Record<string, unknown>;
}
