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

  it('gives plain results of one score the same evaluation text, and others their own', () => {
    const plain = (score: number): Extract<ScoredRow, { ok: true }> => ({ ok: true, score, isScoreValid: true, reason: null, metrics: {}, ms: 1 });
    const texts = [plain(1), plain(1), plain(0), { ...plain(1), reason: 'why' }, { ...plain(1), isScoreValid: false }].map((outcome) => {
      const { row } = toOutputRowFromText('{}', 0, outcome);
      return 'evaluation' in row ? [row.evaluation, row.score] : [];
    });
    expect(texts).toEqual([
      ['{"score":1,"is_score_valid":true,"reason":null,"metrics":{}}', '1'],
      ['{"score":1,"is_score_valid":true,"reason":null,"metrics":{}}', '1'],
      ['{"score":0,"is_score_valid":true,"reason":null,"metrics":{}}', '0'],
      ['{"score":1,"is_score_valid":true,"reason":"why","metrics":{}}', '1'],
      ['{"score":1,"is_score_valid":false,"reason":null,"metrics":{}}', '1'],
    ]);
    // Metrics named to look like the end of one and the start of another do not share a text.
    const metric = (score: number) => ({ score, reason: null, is_score_valid: true });
    const two = toOutputRowFromText('{}', 0, { ...plain(1), metrics: { a: metric(1), b: metric(2) } }).row;
    const one = toOutputRowFromText('{}', 0, { ...plain(1), metrics: { 'a\u00001\u0000b': metric(2) } }).row;
    expect('evaluation' in two && JSON.parse(two.evaluation).metrics).toEqual({ a: metric(1), b: metric(2) });
    expect('evaluation' in one && JSON.parse(one.evaluation).metrics).toEqual({ 'a\u00001\u0000b': metric(2) });
  });

  it('rebuilds a row that already holds an output key, so the new values win', () => {
    const { row } = toOutputRowFromText('{"evals":{"score":9}}', 0, failed);
    expect('text' in row).toBe(true);
    expect(JSON.parse(outputRowText(row))).toMatchObject({ evals: { score: 0 }, eval_details: { is_score_valid: false, error: 'killed after 1 s' } });
  });
});
