/**
 * Graders (`testing_criteria`) as the OpenAI Evals API defines them, checked when an eval is
 * created. The sandbox runs them (src/services/openai-evals/graders.py); this half only decides
 * what is well-formed and whether a result passed.
 */
import { failedPrecondition, invalidArgument } from '../errors.js';
import { checkFormula } from './formula.js';

export const STRING_CHECK_OPERATIONS = ['eq', 'ne', 'like', 'ilike'] as const;
export const SIMILARITY_METRICS = [
  'cosine', 'fuzzy_match', 'bleu', 'gleu', 'meteor', 'rouge_1', 'rouge_2', 'rouge_3', 'rouge_4', 'rouge_5', 'rouge_l',
] as const;
/** Metrics the sandbox computes from the texts alone (graders.py). */
const TEXT_METRICS: readonly string[] = ['fuzzy_match', 'bleu', 'gleu', 'rouge_1', 'rouge_2', 'rouge_3', 'rouge_4', 'rouge_5', 'rouge_l'];

/**
 * What this server has for the metrics that need more than the texts: `meteor` needs WordNet
 * (Debian's wordnet-base, read inside the sandbox), `cosine` an embeddings endpoint.
 */
export interface GraderAvailability {
  meteor?: boolean;
  /** The model name cosine embeds with, when the operator mapped it to an endpoint. */
  cosineModel?: string | undefined;
}

function unavailableMetric(metric: string, available: GraderAvailability): string | undefined {
  if (TEXT_METRICS.includes(metric) || (metric === 'meteor' && available.meteor) || (metric === 'cosine' && available.cosineModel)) return undefined;
  return metric === 'cosine'
    ? 'it needs an embeddings endpoint: the operator maps the embedding model (openaiEmbeddingModel) to one in openaiModels'
    : 'it needs WordNet data (the Debian package wordnet-base), which this server does not have';
}

/** The score at or above which a grader without `pass_threshold` passes (docs/openai-evals.md). */
export const DEFAULT_PASS_THRESHOLD = 0.5;

export type Grader = Record<string, unknown> & { type: string; name: string };

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(grader: Obj, key: string, field: string): string {
  const value = grader[key];
  if (typeof value !== 'string') throw invalidArgument(`${field}.${key}: is required and must be a string`);
  return value;
}

function optionalNumber(grader: Obj, key: string, field: string): void {
  const value = grader[key];
  if (value !== undefined && value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
    throw invalidArgument(`${field}.${key}: must be a number`);
  }
}

function oneOf(grader: Obj, key: string, allowed: readonly string[], field: string): string {
  const value = str(grader, key, field);
  if (!allowed.includes(value)) throw invalidArgument(`${field}.${key}: "${value}" is not one of ${allowed.join(', ')}`);
  return value;
}

function checkOne(grader: Obj, field: string, { nested, available }: { nested: boolean; available: GraderAvailability }): void {
  const type = str(grader, 'type', field);
  str(grader, 'name', field);
  switch (type) {
    case 'string_check':
      str(grader, 'input', field);
      str(grader, 'reference', field);
      oneOf(grader, 'operation', STRING_CHECK_OPERATIONS, field);
      return;
    case 'text_similarity': {
      str(grader, 'input', field);
      str(grader, 'reference', field);
      const metric = oneOf(grader, 'evaluation_metric', SIMILARITY_METRICS, field);
      if (!nested && typeof grader['pass_threshold'] !== 'number') throw invalidArgument(`${field}.pass_threshold: is required and must be a number`);
      optionalNumber(grader, 'pass_threshold', field);
      const missing = unavailableMetric(metric, available);
      if (missing) {
        const usable = SIMILARITY_METRICS.filter((m) => !unavailableMetric(m, available));
        throw failedPrecondition(`${field}.evaluation_metric: "${metric}" is not available on this server (${missing}); use one of ${usable.join(', ')}`);
      }
      return;
    }
    case 'python':
      str(grader, 'source', field);
      optionalNumber(grader, 'pass_threshold', field);
      return;
    case 'multi':
      if (nested) throw invalidArgument(`${field}.type: a multi grader cannot contain another multi grader`);
      checkMulti(grader, field, available);
      return;
    case 'score_model':
    case 'label_model':
      if (nested) throw invalidArgument(`${field}.type: a model grader cannot be inside a multi grader on this server`);
      checkModelGrader(grader, type, field);
      return;
    default:
      throw invalidArgument(`${field}.type: "${type}" is not one of string_check, text_similarity, python, score_model, label_model, multi`);
  }
}

export const MODEL_GRADER_TYPES: ReadonlySet<string> = new Set(['score_model', 'label_model']);

/** A grader message's text: a string, or an input_text / output_text part. */
export function messageText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  const part = content as Obj | null;
  return part && typeof part === 'object' && typeof part['text'] === 'string' ? part['text'] : undefined;
}

function checkModelGrader(grader: Obj, type: string, field: string): void {
  str(grader, 'model', field);
  const input = grader['input'];
  if (!Array.isArray(input) || input.length === 0) throw invalidArgument(`${field}.input: is required and must be a non-empty list of messages`);
  input.forEach((m: unknown, i) => {
    if (!isObject(m) || typeof m['role'] !== 'string' || messageText(m['content']) === undefined) {
      throw invalidArgument(`${field}.input[${i}]: must be {role, content} with text content (images and audio are not supported)`);
    }
  });
  if (type === 'label_model') {
    const labels = grader['labels'];
    const passing = grader['passing_labels'];
    if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string')) throw invalidArgument(`${field}.labels: is required and must be a non-empty list of strings`);
    if (!Array.isArray(passing) || !passing.every((l) => typeof l === 'string' && labels.includes(l))) throw invalidArgument(`${field}.passing_labels: must be a list of some of the labels`);
    return;
  }
  const range = grader['range'];
  if (range !== undefined && range !== null && !(Array.isArray(range) && range.length === 2 && range.every((n) => typeof n === 'number') && (range[0] as number) < (range[1] as number))) {
    throw invalidArgument(`${field}.range: must be two numbers [min, max] with min < max`);
  }
  optionalNumber(grader, 'pass_threshold', field);
}

function checkMulti(grader: Obj, field: string, available: GraderAvailability): void {
  const graders = grader['graders'];
  if (!isObject(graders) || Object.keys(graders).length === 0) throw invalidArgument(`${field}.graders: is required and must map names to graders`);
  for (const [key, sub] of Object.entries(graders)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw invalidArgument(`${field}.graders.${key}: a sub-grader's key must be a name usable in calculate_output (letters, digits, _)`);
    if (!isObject(sub)) throw invalidArgument(`${field}.graders.${key}: must be a grader object`);
    checkOne(sub, `${field}.graders.${key}`, { nested: true, available });
  }
  checkFormula(str(grader, 'calculate_output', field), new Set(Object.keys(graders)), `${field}.calculate_output`);
  optionalNumber(grader, 'pass_threshold', field);
}

/** Throws INVALID_ARGUMENT (or FAILED_PRECONDITION for kinds this server cannot run) naming the field. */
export function checkTestingCriteria(value: unknown, available: GraderAvailability = {}): Grader[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidArgument('testing_criteria: is required and must be a non-empty list of graders');
  const names = new Set<string>();
  value.forEach((grader: unknown, i) => {
    const field = `testing_criteria[${i}]`;
    if (!isObject(grader)) throw invalidArgument(`${field}: must be a grader object`);
    checkOne(grader, field, { nested: false, available });
    const name = grader['name'] as string;
    if (names.has(name)) throw invalidArgument(`${field}.name: "${name}" is already the name of another grader; names must be unique`);
    names.add(name);
  });
  // The one model call per item is the job's rollout step: one model grader fits in it, or the
  // embeddings of every cosine grader.
  const modelGraders = value.filter((g: Obj) => MODEL_GRADER_TYPES.has(g['type'] as string));
  if (modelGraders.length > 1) throw invalidArgument('testing_criteria: at most one score_model or label_model grader per eval on this server');
  if (modelGraders.length === 1 && similarityMetricsOf(value as Grader[]).has('cosine')) {
    throw invalidArgument('testing_criteria: a model grader and a cosine text_similarity each call a model per item, and this server makes one call per item: put them in separate evals');
  }
  return value as Grader[];
}

/** Every text_similarity metric the graders use, sub-graders of a multi included. */
export function similarityMetricsOf(graders: readonly Grader[]): Set<string> {
  const metrics = new Set<string>();
  const walk = (grader: Obj) => {
    if (grader['type'] === 'text_similarity') metrics.add(grader['evaluation_metric'] as string);
    if (grader['type'] === 'multi') for (const sub of Object.values(grader['graders'] as Obj)) walk(sub as Obj);
  };
  graders.forEach(walk);
  return metrics;
}

/** Whether a grader's score passes: string_check scores 1 or 0; the others compare with their threshold. */
export function passes(grader: Grader, score: number): boolean {
  if (grader.type === 'string_check' || grader.type === 'label_model') return score >= 1;
  const threshold = typeof grader['pass_threshold'] === 'number' ? grader['pass_threshold'] : DEFAULT_PASS_THRESHOLD;
  return score >= threshold;
}
