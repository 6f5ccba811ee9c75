import { randomBytes } from 'node:crypto';
import { failedPrecondition, invalidArgument, notFound } from '../../domain/errors.js';
import { checkTestingCriteria, type Grader, type GraderAvailability } from '../../domain/graders/criteria.js';
import { checkItemSchema } from '../../domain/graders/item-schema.js';
import { EVAL_ID_PREFIX, type CursorRequest, type EvalDocument, type Metadata, type OpenAiEvalRecord } from '../../domain/openai-evals.js';
import type { Principal } from '../../domain/types.js';
import type { Store } from '../../store/index.js';
import type { EvaluatorService } from '../evaluators.js';
import type { JobService } from '../jobs.js';
import { graderCriteria, graderEvaluatorId, graderRequirements } from './evaluator-source.js';

export interface EvalCreateInput {
  name?: unknown;
  metadata?: unknown;
  data_source_config?: unknown;
  testing_criteria?: unknown;
}

export const unixNow = (): number => Math.floor(Date.now() / 1000);
let lastMillis = 0;
/**
 * Ids that sort in creation order (a millisecond clock, kept strictly increasing in this process,
 * then random bits): lists order by `created_at` in seconds, and ties fall back to the id.
 */
export function openAiId(prefix: string): string {
  lastMillis = Math.max(Date.now(), lastMillis + 1);
  return `${prefix}${lastMillis.toString(16).padStart(12, '0')}${randomBytes(6).toString('hex')}`;
}

/** OpenAI metadata: at most 16 string values, keys up to 64 characters, values up to 512. */
export function checkMetadata(value: unknown, field = 'metadata'): Metadata | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgument(`${field}: must be an object of string values`);
  const entries = Object.entries(value);
  if (entries.length > 16) throw invalidArgument(`${field}: at most 16 keys, got ${entries.length}`);
  for (const [key, v] of entries) {
    if (key.length > 64) throw invalidArgument(`${field}: key "${key.slice(0, 20)}..." is longer than 64 characters`);
    if (typeof v !== 'string' || v.length > 512) throw invalidArgument(`${field}.${key}: must be a string of at most 512 characters`);
  }
  return value as Metadata;
}

function checkName(value: unknown, field = 'name'): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidArgument(`${field}: must be a string`);
  return value;
}

/** `custom` with an item schema; what is stored is the schema of a whole row, {item, sample}. */
function dataSourceConfigOf(value: unknown): EvalDocument['data_source_config'] {
  if (typeof value !== 'object' || value === null) throw invalidArgument('data_source_config: is required');
  const config = value as Record<string, unknown>;
  if (config['type'] === 'stored_completions' || config['type'] === 'logs') {
    throw invalidArgument(`data_source_config.type: "${config['type']}" reads completions stored on OpenAI's platform, which Tally does not have; use "custom" with an item_schema and send the items with each run`);
  }
  if (config['type'] !== 'custom') throw invalidArgument(`data_source_config.type: must be "custom", got ${JSON.stringify(config['type'])}`);
  const item = checkItemSchema(config['item_schema']);
  const withSample = config['include_sample_schema'] === true;
  const sample = { type: 'object', properties: { output_text: { type: 'string' }, output_json: { type: 'object' } } };
  return {
    type: 'custom',
    schema: { type: 'object', properties: { item, ...(withSample ? { sample } : {}) }, required: withSample ? ['item', 'sample'] : ['item'] },
  };
}

export function createEvalService(store: Store, deps: { evaluators: EvaluatorService; jobs: JobService; graders?: GraderAvailability }) {
  const get = async (accountId: string, id: string): Promise<OpenAiEvalRecord> => {
    const record = await store.openaiEvals.getEval(accountId, id);
    if (!record) throw notFound(`eval_id: eval "${id}" not found`);
    return record;
  };

  /** The evaluator that runs these graders: made on first use, reused by every eval with the same graders. */
  const ensureEvaluator = async (principal: Principal, graders: Grader[]): Promise<string> => {
    const criteria = graderCriteria(graders);
    const requirements = graderRequirements(graders);
    const id = graderEvaluatorId(criteria, requirements);
    const existing = await store.evaluators.get(principal.accountId, id);
    if (existing?.state === 'BUILD_FAILED') throw failedPrecondition(`testing_criteria: the graders did not build: ${existing.status.message}`);
    if (!existing) {
      await deps.evaluators.create(principal, {
        evaluatorId: id, flavour: 'v2',
        evaluator: { displayName: 'OpenAI Evals graders', description: `testing criteria: ${criteria.map((c) => c.name).join(', ')}`, spec: { criteria, requirements } },
      });
    }
    return id;
  };

  return {
    get,

    async create(principal: Principal, input: EvalCreateInput): Promise<OpenAiEvalRecord> {
      const doc: EvalDocument = {
        name: checkName(input.name) ?? '',
        metadata: checkMetadata(input.metadata),
        data_source_config: dataSourceConfigOf(input.data_source_config),
        testing_criteria: checkTestingCriteria(input.testing_criteria, deps.graders),
      };
      const evaluatorId = await ensureEvaluator(principal, doc.testing_criteria as Grader[]);
      const now = unixNow();
      const record: OpenAiEvalRecord = { accountId: principal.accountId, id: openAiId(EVAL_ID_PREFIX), createdAt: now, updatedAt: now, evaluatorId, eval: doc };
      await store.openaiEvals.createEval(record);
      return record;
    },

    list: (accountId: string, request: CursorRequest & { orderBy?: 'created_at' | 'updated_at' }) =>
      store.openaiEvals.listEvals(accountId, { ...request, orderColumn: request.orderBy }),

    /** Only the name and metadata change: the graders and schema define what the eval's runs mean. */
    async update(accountId: string, id: string, input: { name?: unknown; metadata?: unknown }): Promise<OpenAiEvalRecord> {
      const record = await get(accountId, id);
      const name = checkName(input.name);
      const metadata = input.metadata === undefined ? record.eval.metadata : checkMetadata(input.metadata);
      const updated: OpenAiEvalRecord = { ...record, updatedAt: unixNow(), eval: { ...record.eval, name: name ?? record.eval.name, metadata } };
      await store.openaiEvals.updateEval(updated);
      return updated;
    },

    /** Deletes the eval, its runs and their jobs and datasets; the shared graders' evaluator stays. */
    async delete(accountId: string, id: string, deleteRunJob: (jobId: string) => Promise<void>): Promise<void> {
      const deleted = await store.openaiEvals.deleteEval(accountId, id);
      if (!deleted) throw notFound(`eval_id: eval "${id}" not found`);
      for (const jobId of deleted.jobIds) await deleteRunJob(jobId);
    },
  };
}

export type EvalService = ReturnType<typeof createEvalService>;
