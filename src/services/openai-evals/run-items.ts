import { invalidArgument } from '../../domain/errors.js';
import { itemProblem } from '../../domain/graders/item-schema.js';
import type { EvalDocument } from '../../domain/openai-evals.js';

/** A jsonl data source's item as the job's dataset holds it: one row `{item, sample?}`. */
export interface RunItem {
  item: Record<string, unknown>;
  sample?: Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks one item against the eval's item schema; `field` names where it came from. */
export function checkRunItem(value: unknown, config: EvalDocument['data_source_config'], field: string): RunItem {
  if (!isObject(value)) throw invalidArgument(`${field}: must be an object {item, sample?}`);
  if (!isObject(value['item'])) throw invalidArgument(`${field}.item: is required and must be an object`);
  if (value['sample'] !== undefined && value['sample'] !== null && !isObject(value['sample'])) throw invalidArgument(`${field}.sample: must be an object`);
  const itemSchema = (config.schema['properties'] as Record<string, Record<string, unknown>> | undefined)?.['item'];
  const problem = itemSchema && itemProblem(itemSchema, value['item']);
  if (problem) throw invalidArgument(`${field}: does not match data_source_config.item_schema: ${problem}`);
  return value['sample'] ? { item: value['item'], sample: value['sample'] as Record<string, unknown> } : { item: value['item'] };
}

/** The `file_content` items, checked; at least one. */
export function fileContentItems(source: Record<string, unknown>, config: EvalDocument['data_source_config']): RunItem[] {
  const content = source['content'];
  if (!Array.isArray(content) || content.length === 0) throw invalidArgument('data_source.source.content: is required and must be a non-empty list of {item, sample?}');
  return content.map((entry, i) => checkRunItem(entry, config, `data_source.source.content[${i}]`));
}

export async function* jsonlBytes(items: RunItem[]): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for (let i = 0; i < items.length; i += 1000) {
    yield encoder.encode(items.slice(i, i + 1000).map((item) => `${JSON.stringify(item)}\n`).join(''));
  }
}
