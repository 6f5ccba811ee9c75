import { describe, expect, it } from 'vitest';
import { outputRowText, toOutputRow, toOutputRowFromText, type ScoredRow } from './output-rows.js';

const scored: ScoredRow = { ok: true, score: 0.5, isScoreValid: true, reason: 'half "right"', metrics: { m: { score: 1, reason: null, is_score_valid: true } }, ms: 2 };
const failed: ScoredRow = { ok: false, kind: 'timeout', message: 'killed after 1 s', ms: 1000 };

describe('output rows', () => {
  const inputs = [
    '{"messages":[{"role":"user","content":"hi"}],"ground_truth":"x"}',
    '{}',
    '{ \t\n }',
    '{"a":{"b":"}"}}  ',
    '{"evals":{"score":9},"keep":1}',
    '{"\\u0065vals":1}',
    '{"evaluation_result":null}',
  ];

  it.each(inputs)('splices into %s what parsing and rebuilding it gives', (input) => {
    for (const outcome of [scored, failed]) {
      const { row, result } = toOutputRowFromText(input, 7, outcome);
      const rebuilt = toOutputRow(JSON.parse(input) as Record<string, unknown>, 7, outcome);
      expect(JSON.parse(outputRowText(row))).toEqual(JSON.parse(rebuilt.text));
      expect(result).toEqual(rebuilt.result);
    }
  });

  it('keeps the input text as it is and appends the keys before its closing brace', () => {
    const { row } = toOutputRowFromText('{"b":1,"a":2}', 0, scored);
    expect(row).toMatchObject({ idx: 0, input: '{"b":1,"a":2}' });
    expect(outputRowText(row)).toBe(
      '{"b":1,"a":2,"evaluation_result":{"score":0.5,"is_score_valid":true,"reason":"half \\"right\\"","metrics":{"m":{"score":1,"reason":null,"is_score_valid":true}}},' +
        '"evals":{"score":0.5},"eval_details":{"score":0.5,"is_score_valid":true,"reason":"half \\"right\\"","metrics":{"m":{"score":1,"reason":null,"is_score_valid":true}}}}',
    );
  });

  it('rebuilds a row that already holds an output key, so the new values win', () => {
    const { row } = toOutputRowFromText('{"evals":{"score":9}}', 0, failed);
    expect('text' in row).toBe(true);
    expect(JSON.parse(outputRowText(row))).toMatchObject({ evals: { score: 0 }, eval_details: { is_score_valid: false, error: 'killed after 1 s' } });
  });
});
