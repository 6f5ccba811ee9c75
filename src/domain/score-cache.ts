/**
 * The score cache's rules (runner/score-cache.ts does the reading and writing).
 *
 * - key: same evaluator build + same settings + same secrets + same row text = same score. The build is named by
 *   the evaluator and its build directory (every build, so every change of code or requirements,
 *   gets a new one) and its environment hash; the settings that can change an outcome are the
 *   per-row time limit and egress. The key is a SHA-256 of those and the row's stored text.
 * - what is cached: valid and invalid results the evaluator returned; never an error outcome
 *   (a crash, a time-out or a cancel may not happen again).
 * - who uses it: pointwise jobs (a group's scores depend on the whole group) whose `cache`
 *   setting is not false and that have no rollout step (they score generated messages, and each
 *   run is a new sample).
 */
import { createHash } from 'node:crypto';
import type { EvaluatorRecord } from './evaluators.js';
import type { JobRecord } from './jobs.js';
import type { ScoredRow } from './output-rows.js';

export type CachedScore = Extract<ScoredRow, { ok: true }>;

export function usesScoreCache(job: Pick<JobRecord, 'settings'>, evaluator: Pick<EvaluatorRecord, 'mode'>): boolean {
  if (job.settings.cache === false) return false;
  if (evaluator.mode === 'groupwise' || evaluator.mode === 'all') return false;
  // A job with a rollout scores what the model generates, not the stored row, and each run is a
  // new sample: the row's text says nothing about its score.
  return !job.settings.rollout;
}

/**
 * What every key of one job's rows shares: the build, the settings and the environment the
 * evaluator sees (a digest of the account's secrets: a judge's key or endpoint can change a score).
 */
export function cacheFingerprint(
  job: Pick<JobRecord, 'settings'>,
  evaluator: Pick<EvaluatorRecord, 'id' | 'buildDir' | 'envHash' | 'mode'>,
  environmentDigest = '',
): string {
  const parts = [evaluator.id, evaluator.buildDir, evaluator.envHash, evaluator.mode, job.settings.perRowTimeoutMs, job.settings.egress === true, environmentDigest];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** 128 bits of the SHA-256 (32 hex digits): a collision is out of reach at any cache size, and a shorter key is a smaller index. */
export function cacheKeyOf(fingerprint: string, rowText: string): string {
  return createHash('sha256').update(fingerprint).update('\n').update(rowText).digest('hex').slice(0, 32);
}

/** The stored form of a scored row, or undefined when it is not to be cached. */
export function encodeCachedScore(scored: ScoredRow): string | undefined {
  if (!scored.ok) return undefined;
  return JSON.stringify({ score: scored.score, isScoreValid: scored.isScoreValid, reason: scored.reason, metrics: scored.metrics });
}

/** A cached score as the row's outcome; it took no evaluator time. */
export function decodeCachedScore(text: string): CachedScore {
  const stored = JSON.parse(text) as Omit<CachedScore, 'ok' | 'ms'>;
  return { ok: true, score: stored.score, isScoreValid: stored.isScoreValid, reason: stored.reason, metrics: stored.metrics, ms: 0 };
}
