import { describe, expect, it } from 'vitest';
import { checkTestingCriteria, passes, similarityMetricsOf, type Grader } from './criteria.js';
import { renderTemplate } from './template.js';

const check = { type: 'string_check', name: 's', input: '{{sample.output_text}}', reference: 'x', operation: 'eq' };
const judge = { type: 'label_model', name: 'j', model: 'm', input: [{ role: 'user', content: '{{item.q}}' }], labels: ['yes', 'no'], passing_labels: ['yes'] };
const problem = (criteria: unknown): string | undefined => {
  try {
    checkTestingCriteria(criteria);
    return undefined;
  } catch (error: unknown) {
    return (error as Error).message;
  }
};

describe('testing_criteria', () => {
  it('accepts every supported kind', () => {
    expect(problem([check, { type: 'text_similarity', name: 't', input: 'a', reference: 'b', evaluation_metric: 'rouge_l', pass_threshold: 0.3 },
      { type: 'python', name: 'p', source: 'def grade(s, i): return 1' }, judge,
      { type: 'multi', name: 'm', graders: { a: check }, calculate_output: 'a * 2' }])).toBeUndefined();
  });
  it('names the field of each problem', () => {
    expect(problem([])).toMatch(/^testing_criteria: is required/);
    expect(problem([{ ...check, operation: 'glob' }])).toBe('testing_criteria[0].operation: "glob" is not one of eq, ne, like, ilike');
    expect(problem([check, check])).toMatch(/^testing_criteria\[1\].name: "s" is already the name/);
    expect(problem([{ type: 'text_similarity', name: 't', input: 'a', reference: 'b', evaluation_metric: 'bleu' }])).toMatch(/^testing_criteria\[0\].pass_threshold: is required/);
    expect(problem([{ type: 'text_similarity', name: 't', input: 'a', reference: 'b', evaluation_metric: 'cosine', pass_threshold: 1 }])).toMatch(/embeddings endpoint/);
    expect(problem([{ ...judge, passing_labels: ['maybe'] }])).toMatch(/^testing_criteria\[0\].passing_labels: must be a list of some of the labels/);
    expect(problem([judge, { ...judge, name: 'k' }])).toMatch(/at most one score_model or label_model/);
    expect(problem([{ type: 'multi', name: 'm', graders: { a: judge }, calculate_output: 'a' }])).toMatch(/^testing_criteria\[0\].graders.a.type: a model grader cannot be inside/);
    expect(problem([{ type: 'assert', name: 'x' }])).toMatch(/^testing_criteria\[0\].type: "assert" is not one of/);
  });
  it('accepts meteor and cosine only where the server has what they need, inside a multi too', () => {
    const similarity = (metric: string) => ({ type: 'text_similarity', name: 't', input: 'a', reference: 'b', evaluation_metric: metric, pass_threshold: 0.5 });
    const inMulti = (metric: string) => ({ type: 'multi', name: 'm', graders: { a: { ...similarity(metric), pass_threshold: undefined } }, calculate_output: 'a' });
    expect(problem([similarity('meteor')])).toMatch(/^testing_criteria\[0\]\.evaluation_metric: "meteor" is not available on this server \(it needs WordNet data \(the Debian package wordnet-base\)/);
    expect(problem([inMulti('cosine')])).toMatch(/^testing_criteria\[0\]\.graders\.a\.evaluation_metric: "cosine" is not available .*embeddings endpoint.*use one of fuzzy_match, bleu, gleu, rouge_1/);
    const available = (criteria: unknown[]) => checkTestingCriteria(criteria, { meteor: true, cosineModel: 'text-embedding-3-large' });
    expect(available([similarity('meteor'), { ...similarity('cosine'), name: 'c' }, inMulti('cosine')])).toHaveLength(3);
    expect([...similarityMetricsOf([similarity('bleu') as Grader, inMulti('meteor') as unknown as Grader])].sort()).toEqual(['bleu', 'meteor']);
  });
  it('decides passes by kind and threshold', () => {
    expect(passes(check as Grader, 1)).toBe(true);
    expect(passes(check as Grader, 0.99)).toBe(false);
    expect(passes({ type: 'python', name: 'p' }, 0.5)).toBe(true);
    expect(passes({ type: 'score_model', name: 'p', pass_threshold: 7 }, 6.9)).toBe(false);
  });
});

describe('templates', () => {
  it('fills strings as they are and other values as JSON, and names a missing field', () => {
    expect(renderTemplate('Q: {{ item.q }} / {{item.tags.1}} / {{item.meta}}', { item: { q: 'hi', tags: ['a', 'b'], meta: { n: 1 } } })).toEqual({ text: 'Q: hi / b / {"n":1}' });
    expect(renderTemplate('{{item.x.y}}', { item: { x: {} } })).toEqual({ problem: 'template {{item.x.y}}: item.x has no field "y"' });
    expect(renderTemplate('{{sample.output_text}}', { item: {} })).toEqual({ problem: 'template {{sample.output_text}}: names neither item' });
  });
});
