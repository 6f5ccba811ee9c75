import { describe, expect, it } from 'vitest';
import { completionsJob, cosineCallJob, cosineGradersOf } from './completions.js';
import type { Grader } from '../../domain/graders/criteria.js';

const models = { small: { baseUrl: 'http://127.0.0.1:9/v1', model: 'served-name' }, 'text-embedding-3-large': { baseUrl: 'http://127.0.0.1:9/v1' } };
const items = [{ item: { q: 'two', a: 'deux' }, sample: { output_text: 'deux' } }];
const source = (sampling: Record<string, unknown>) => ({
  type: 'completions', model: 'small', source: { type: 'file_content' },
  input_messages: { type: 'template', template: [{ role: 'user', content: 'Translate {{item.q}}' }] }, sampling_params: sampling,
});
const problem = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error: unknown) {
    return (error as Error).message;
  }
};

describe('a completions run', () => {
  it('sends the sampling params in the rollout step\'s names, and response_format, tools and reasoning_effort as they are', () => {
    const format = { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } };
    const { rollout, rows } = completionsJob(source({ temperature: 0.3, max_completion_tokens: 9, seed: 4, response_format: format, reasoning_effort: 'low' }), items, models);
    expect(rollout).toMatchObject({ baseUrl: models.small.baseUrl, model: 'served-name', params: { temperature: 0.3, max_tokens: 9, seed: 4, extraBody: { response_format: format, reasoning_effort: 'low' } } });
    expect(rows[0]!.messages).toEqual([{ role: 'user', content: 'Translate two' }]);
  });

  it('refuses a sampling param it would not send, naming it', () => {
    expect(problem(() => completionsJob(source({ temperature: 0, logit_bias: { 1: 2 } }), items, models))).toMatch(/^data_source\.sampling_params\.logit_bias: not a sampling param this server sends/);
    expect(problem(() => completionsJob(source({ temperature: 'hot' }), items, models))).toBe('data_source.sampling_params.temperature: must be a number');
  });
});

describe('a run with cosine graders', () => {
  const cosine = (name: string, input: string): Grader => ({ type: 'text_similarity', name, input, reference: '{{item.a}}', evaluation_metric: 'cosine', pass_threshold: 0.5 });
  const graders: Grader[] = [cosine('top', '{{sample.output_text}}'), { type: 'multi', name: 'm', graders: { x: cosine('x', '{{item.q}}'), y: { type: 'string_check', name: 'y' } }, calculate_output: 'x' }];

  it('finds every cosine grader by its key, inside a multi too', () => {
    expect(cosineGradersOf(graders).map((g) => g.key)).toEqual(['top', 'm.x']);
  });

  it('embeds each distinct text once an item and pairs each grader\'s input with its reference', () => {
    const { rows, rollout } = cosineCallJob(graders, items, models, 'text-embedding-3-large');
    expect(rollout).toEqual({ api: 'embeddings', baseUrl: models['text-embedding-3-large'].baseUrl, model: 'text-embedding-3-large', params: {} });
    expect(rows[0]).toMatchObject({ embedding_input: ['deux', 'two'], embedding_pairs: [[0, 0], [1, 0]], tally_cosine: { top: 0, 'm.x': 1 }, tally_rollout: 'embeddings' });
  });

  it('names the item and grader whose template does not resolve, and an unmapped embedding model', () => {
    expect(problem(() => cosineCallJob(graders, [{ item: { a: 'x' }, sample: { output_text: 'y' } }], models, 'text-embedding-3-large'))).toMatch(/^data_source\.source: item 0: grader "m\.x" input: template \{\{item\.q\}\}/);
    expect(problem(() => cosineCallJob(graders, items, models, 'nomic-embed'))).toMatch(/maps the embedding model "nomic-embed" to one in openaiModels/);
  });
});
