/**
 * The JSON-Schema subset that `data_source_config.item_schema` is checked with: `type` (one or a
 * list of object, array, string, number, integer, boolean, null), `properties`, `required`,
 * `additionalProperties: false`, `items`, `enum`, `minLength`/`maxLength`, `minimum`/`maximum`.
 * Other keywords are accepted and not enforced (docs/openai-evals.md lists them).
 */
import { invalidArgument } from '../errors.js';

type Schema = Record<string, unknown>;
const TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Checks the schema itself, so a bad schema fails at eval creation, not at each run. */
export function checkItemSchema(schema: unknown, field = 'data_source_config.item_schema'): Schema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw invalidArgument(`${field}: must be a JSON Schema object`);
  const s = schema as Schema;
  const types = s['type'] === undefined ? [] : Array.isArray(s['type']) ? s['type'] : [s['type']];
  for (const t of types) if (typeof t !== 'string' || !TYPES.includes(t)) throw invalidArgument(`${field}.type: ${JSON.stringify(t)} is not one of ${TYPES.join(', ')}`);
  const properties = s['properties'];
  if (properties !== undefined) {
    if (typeof properties !== 'object' || properties === null) throw invalidArgument(`${field}.properties: must be an object`);
    for (const [key, sub] of Object.entries(properties)) checkItemSchema(sub, `${field}.properties.${key}`);
  }
  if (s['required'] !== undefined && !(Array.isArray(s['required']) && s['required'].every((r) => typeof r === 'string'))) {
    throw invalidArgument(`${field}.required: must be a list of property names`);
  }
  if (s['items'] !== undefined) checkItemSchema(s['items'], `${field}.items`);
  if (s['enum'] !== undefined && !Array.isArray(s['enum'])) throw invalidArgument(`${field}.enum: must be a list`);
  return s;
}

/** The first problem of `value` against `schema`, as `path: problem`, or undefined when it conforms. */
export function itemProblem(schema: Schema, value: unknown, path = 'item'): string | undefined {
  const types = schema['type'] === undefined ? [] : ((Array.isArray(schema['type']) ? schema['type'] : [schema['type']]) as string[]);
  if (types.length > 0 && !types.some((t) => typeMatches(value, t))) return `${path}: expected ${types.join(' or ')}, got ${typeOf(value)}`;
  if (Array.isArray(schema['enum']) && !schema['enum'].some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    return `${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema['enum'])}`;
  }
  if (typeof value === 'string') return stringProblem(schema, value, path);
  if (typeof value === 'number') return numberProblem(schema, value, path);
  if (Array.isArray(value)) return arrayProblem(schema, value, path);
  if (typeof value === 'object' && value !== null) return objectProblem(schema, value as Record<string, unknown>, path);
  return undefined;
}

function stringProblem(schema: Schema, value: string, path: string): string | undefined {
  if (typeof schema['minLength'] === 'number' && value.length < schema['minLength']) return `${path}: shorter than ${schema['minLength']}`;
  if (typeof schema['maxLength'] === 'number' && value.length > schema['maxLength']) return `${path}: longer than ${schema['maxLength']}`;
  return undefined;
}

function numberProblem(schema: Schema, value: number, path: string): string | undefined {
  if (typeof schema['minimum'] === 'number' && value < schema['minimum']) return `${path}: less than ${schema['minimum']}`;
  if (typeof schema['maximum'] === 'number' && value > schema['maximum']) return `${path}: more than ${schema['maximum']}`;
  return undefined;
}

function arrayProblem(schema: Schema, value: unknown[], path: string): string | undefined {
  const items = schema['items'];
  if (typeof items !== 'object' || items === null) return undefined;
  for (let i = 0; i < value.length; i++) {
    const problem = itemProblem(items as Schema, value[i], `${path}[${i}]`);
    if (problem) return problem;
  }
  return undefined;
}

function objectProblem(schema: Schema, value: Record<string, unknown>, path: string): string | undefined {
  for (const key of (schema['required'] as string[] | undefined) ?? []) if (!(key in value)) return `${path}.${key}: is required by the item schema`;
  const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
  for (const [key, sub] of Object.entries(value)) {
    const propertySchema = properties[key];
    if (propertySchema) {
      const problem = itemProblem(propertySchema, sub, `${path}.${key}`);
      if (problem) return problem;
    } else if (schema['additionalProperties'] === false) return `${path}.${key}: not a property the item schema allows`;
  }
  return undefined;
}
