import { describe, expect, it } from 'vitest';
import { recordedRowResult } from './recorded-results.js';

describe('recordedRowResult', () => {
  it('reads the persist flow\'s eval_details, with its metrics', () => {
    const row = { messages: [], evals: { score: 0.5 }, eval_details: { score: 0.5, is_score_valid: true, reason: 'ok', metrics: { exact: { score: 1, reason: '' }, bad: { reason: 'no score' } } } };
    expect(recordedRowResult(row, 3)).toEqual({ idx: 3, score: 0.5, isScoreValid: true, errorKind: '', ms: 0, metrics: { exact: 1 } });
  });

  it('falls back to evaluation_result, and counts a row without a score as not scored', () => {
    expect(recordedRowResult({ evaluation_result: { score: 1 } }, 0)).toMatchObject({ score: 1, isScoreValid: true });
    expect(recordedRowResult({ eval_details: { score: 0, is_score_valid: false, reason: 'No evaluation result' } }, 1)).toMatchObject({ isScoreValid: false });
    expect(recordedRowResult({ messages: [] }, 2)).toMatchObject({ score: 0, isScoreValid: false, metrics: {} });
    expect(recordedRowResult('not an object', 4)).toMatchObject({ isScoreValid: false });
    expect(recordedRowResult({ eval_details: { score: 'high' } }, 5)).toMatchObject({ isScoreValid: false });
  });
});
