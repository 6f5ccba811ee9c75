import { failedPrecondition, invalidArgument } from '../../domain/errors.js';
import { messageText, type Grader } from '../../domain/graders/criteria.js';
import { renderTemplate, valueAt } from '../../domain/graders/template.js';
import type { RolloutInput } from '../../domain/rollout.js';
import type { ModelEndpoints } from './index.js';
import type { RunItem } from './run-items.js';

/** A completions run's row: the messages the rollout step sends, beside the item. */
export type SampledRow = RunItem & { messages: { role: string; content: string }[] };

type Obj = Record<string, unknown>;

function messagesOf(inputMessages: unknown, item: RunItem, index: number): { role: string; content: string }[] {
  const where = `data_source.input_messages`;
  const input = (inputMessages ?? {}) as Obj;
  const scope = { item: item.item };
  if (input['type'] === 'item_reference') {
    const found = valueAt(String(input['item_reference'] ?? ''), scope);
    if ('problem' in found || !Array.isArray(found.value)) throw invalidArgument(`${where}.item_reference: item ${index}: ${'problem' in found ? found.problem : 'is not a list of messages'}`);
    return found.value as { role: string; content: string }[];
  }
  if (input['type'] !== 'template' || !Array.isArray(input['template'])) throw invalidArgument(`${where}: is required: {"type": "template", "template": [messages]} or {"type": "item_reference", ...}`);
  return (input['template'] as Obj[]).map((message, m) => {
    const content = typeof message['content'] === 'string' ? message['content'] : (message['content'] as Obj | undefined)?.['text'];
    if (typeof content !== 'string' || typeof message['role'] !== 'string') throw invalidArgument(`${where}.template[${m}]: needs a role and a text content`);
    const rendered = renderTemplate(content, scope);
    if ('problem' in rendered) throw invalidArgument(`${where}.template[${m}]: item ${index}: ${rendered.problem}`);
    return { role: message['role'], content: rendered.text };
  });
}

/** Sampling params the chat-completions request carries as they are (OpenAI's names). */
const PASSED_THROUGH = ['response_format', 'tools', 'reasoning_effort'] as const;
const NUMBERS = ['temperature', 'top_p', 'max_completion_tokens', 'max_completions_tokens', 'seed'];

/** The sampling params in the rollout step's names (max_completion_tokens is its max_tokens); any other is refused, naming it. */
function paramsOf(sampling: unknown, field = 'data_source.sampling_params'): RolloutInput['params'] {
  const s = (sampling ?? {}) as Obj;
  const unknown = Object.keys(s).filter((key) => !NUMBERS.includes(key) && !(PASSED_THROUGH as readonly string[]).includes(key));
  if (unknown.length > 0) throw invalidArgument(`${field}.${unknown[0]}: not a sampling param this server sends (${[...NUMBERS, ...PASSED_THROUGH].join(', ')})`);
  const num = (key: string): number | undefined => {
    if (s[key] === undefined || s[key] === null) return undefined;
    if (typeof s[key] !== 'number') throw invalidArgument(`${field}.${key}: must be a number`);
    return s[key];
  };
  const params = { temperature: num('temperature'), top_p: num('top_p'), max_tokens: num('max_completion_tokens') ?? num('max_completions_tokens'), seed: num('seed') };
  const extraBody = Object.fromEntries(PASSED_THROUGH.filter((key) => s[key] !== undefined && s[key] !== null).map((key) => [key, s[key]]));
  return { ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)), ...(Object.keys(extraBody).length ? { extraBody } : {}) };
}

/** The rollout step's call of the endpoint the operator mapped `model` to (the name sent is the mapping's, else `model`). */
function rolloutTo(endpoint: ModelEndpoints[string], model: string, params: RolloutInput['params']): RolloutInput {
  return { baseUrl: endpoint.baseUrl, model: endpoint.model ?? model, params, ...(endpoint.apiKeySecret ? { apiKeySecret: endpoint.apiKeySecret } : {}) };
}

/** The rows and the rollout of a `completions` run: the model must be one the operator configured. */
export function completionsJob(dataSource: Obj, items: RunItem[], models: ModelEndpoints): { rows: SampledRow[]; rollout: RolloutInput; model: string } {
  const model = dataSource['model'];
  if (typeof model !== 'string' || model === '') throw invalidArgument('data_source.model: is required for a completions run');
  const endpoint = models[model];
  if (!endpoint) {
    const known = Object.keys(models);
    throw failedPrecondition(`data_source.model: "${model}" is not a model this server samples (${known.length ? `configured: ${known.join(', ')}` : 'none is configured'}); the operator maps model names to endpoints with the openaiModels setting`);
  }
  const rows = items.map((item, i) => ({ ...item, messages: messagesOf(dataSource['input_messages'], item, i) }));
  return { rows, rollout: rolloutTo(endpoint, model, paramsOf(dataSource['sampling_params'])), model };
}

/** The sample namespace before the sandbox sees it (graders.py `sample_of` makes the same one). */
function sampleScope(sample: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...sample };
  if (!('output_json' in out)) {
    try {
      out['output_json'] = typeof out['output_text'] === 'string' ? (JSON.parse(out['output_text']) as unknown) : null;
    } catch {
      out['output_json'] = null;
    }
  }
  return out;
}

/**
 * A jsonl run of an eval with a model grader: the grader's prompt, filled from each item and its
 * sample, is what the rollout step sends (to the endpoint mapped to the grader's model); the
 * sandbox then reads the model's answer as the grader's verdict. Rows are marked so the sandbox
 * does not take that answer for the sample.
 */
export function graderCallJob(grader: Grader, items: RunItem[], models: ModelEndpoints): { rows: (RunItem & { messages: unknown[]; tally_rollout: 'grader' })[]; rollout: RolloutInput } {
  const model = grader['model'] as string;
  const endpoint = models[model];
  const field = `testing_criteria "${grader.name}".model`;
  if (!endpoint) {
    const known = Object.keys(models);
    throw failedPrecondition(`${field}: "${model}" is not a model this server calls (${known.length ? `configured: ${known.join(', ')}` : 'none is configured'}); the operator maps model names to endpoints with the openaiModels setting`);
  }
  const rows = items.map((item, i) => {
    const scope = { item: item.item, sample: sampleScope(item.sample) };
    const messages = (grader['input'] as Obj[]).map((message, m) => {
      const rendered = renderTemplate(messageText(message['content']) ?? '', scope);
      if ('problem' in rendered) throw invalidArgument(`data_source.source: item ${i}: grader "${grader.name}" input[${m}]: ${rendered.problem}`);
      return { role: message['role'] as string, content: rendered.text };
    });
    return { ...item, messages, tally_rollout: 'grader' as const };
  });
  return { rows, rollout: rolloutTo(endpoint, model, paramsOf(grader['sampling_params'], `testing_criteria "${grader.name}".sampling_params`)) };
}

/** Where each cosine grader is in the eval: its name, or `multi.key` for one inside a multi (graders.py finds its score by it). */
export function cosineGradersOf(graders: readonly Grader[]): { key: string; grader: Grader }[] {
  const found: { key: string; grader: Grader }[] = [];
  const isCosine = (g: Obj) => g['type'] === 'text_similarity' && g['evaluation_metric'] === 'cosine';
  for (const grader of graders) {
    if (isCosine(grader)) found.push({ key: grader.name, grader });
    if (grader.type === 'multi') for (const [key, sub] of Object.entries(grader['graders'] as Obj)) if (isCosine(sub as Obj)) found.push({ key: `${grader.name}.${key}`, grader: sub as Grader });
  }
  return found;
}

/**
 * A jsonl run of an eval with cosine graders: each item's texts (every cosine grader's input and
 * reference, filled from the item and its sample) go to the embeddings endpoint the operator
 * mapped the embedding model to, in one request an item; the rollout step keeps the cosine of each
 * grader's pair (`embedding_pairs`), and the sandbox reads its grader's under `tally_cosine`.
 */
export function cosineCallJob(graders: readonly Grader[], items: RunItem[], models: ModelEndpoints, embeddingModel: string): { rows: RunItem[]; rollout: RolloutInput } {
  const endpoint = models[embeddingModel];
  if (!endpoint) throw failedPrecondition(`testing_criteria: cosine needs an embeddings endpoint: the operator maps the embedding model "${embeddingModel}" to one in openaiModels`);
  const cosines = cosineGradersOf(graders);
  const rows = items.map((item, i) => {
    const scope = { item: item.item, sample: sampleScope(item.sample) };
    const texts: string[] = [];
    const pairs: [number, number][] = [];
    const cosine: Record<string, number> = {};
    const indexOf = (text: string) => (texts.includes(text) ? texts.indexOf(text) : texts.push(text) - 1);
    for (const { key, grader } of cosines) {
      const [given, reference] = (['input', 'reference'] as const).map((field) => {
        const rendered = renderTemplate(grader[field] as string, scope);
        if ('problem' in rendered) throw invalidArgument(`data_source.source: item ${i}: grader "${key}" ${field}: ${rendered.problem}`);
        return rendered.text;
      });
      cosine[key] = pairs.push([indexOf(given!), indexOf(reference!)]) - 1;
    }
    return { ...item, embedding_input: texts, embedding_pairs: pairs, tally_cosine: cosine, tally_rollout: 'embeddings' };
  });
  return { rows, rollout: { api: 'embeddings', ...rolloutTo(endpoint, embeddingModel, {}) } };
}
