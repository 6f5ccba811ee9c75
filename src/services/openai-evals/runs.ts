import { failedPrecondition, invalidArgument, notFound } from '../../domain/errors.js';
import { isTerminal, type JobRecord } from '../../domain/jobs.js';
import { JOB_STATES_OF_STATUS, RUN_ID_PREFIX, type CursorRequest, type OpenAiEvalRecord, type OpenAiRunRecord, type RunStatus } from '../../domain/openai-evals.js';
import type { Principal } from '../../domain/types.js';
import type { Store } from '../../store/index.js';
import type { DatasetService } from '../datasets.js';
import type { JobService } from '../jobs.js';
import { readRowSet } from '../row-ingest.js';
import { checkMetadata, openAiId, unixNow, type EvalService } from './evals.js';
import { MODEL_GRADER_TYPES, type Grader } from '../../domain/graders/criteria.js';
import { completionsJob, cosineCallJob, cosineGradersOf, graderCallJob } from './completions.js';
import type { ModelEndpoints } from './index.js';
import { checkRunItem, fileContentItems, jsonlBytes, type RunItem } from './run-items.js';
import { summarize } from './summary.js';

export interface RunCreateInput {
  name?: unknown;
  metadata?: unknown;
  data_source?: unknown;
}

export interface RunView {
  record: OpenAiRunRecord;
  eval: OpenAiEvalRecord;
  job: JobRecord | undefined;
}

/** Tally ids of a run's job and datasets: lowercase, from the run id's random part. */
const tallyIdOf = (runId: string): string => `oairun-${runId.slice(RUN_ID_PREFIX.length)}`;

function dataSourceOf(value: unknown): Record<string, unknown> & { source: Record<string, unknown> } {
  if (typeof value !== 'object' || value === null) throw invalidArgument('data_source: is required');
  const source = value as Record<string, unknown>;
  if (source['type'] === 'responses') {
    throw failedPrecondition('data_source.type: "responses" reads responses stored on OpenAI\'s platform, which Tally does not have; use "jsonl" or "completions"');
  }
  if (source['type'] !== 'jsonl' && source['type'] !== 'completions') throw invalidArgument(`data_source.type: must be "jsonl" or "completions", got ${JSON.stringify(source['type'])}`);
  if (typeof source['source'] !== 'object' || source['source'] === null) throw invalidArgument('data_source.source: is required');
  const kind = (source['source'] as Record<string, unknown>)['type'];
  if (kind !== 'file_content' && kind !== 'file_id') throw invalidArgument(`data_source.source.type: must be "file_content" or "file_id", got ${JSON.stringify(kind)}`);
  return source as Record<string, unknown> & { source: Record<string, unknown> };
}

export function createRunService(store: Store, deps: { evals: EvalService; datasets: DatasetService; jobs: JobService; models: ModelEndpoints; embeddingModel: string }) {
  const view = async (record: OpenAiRunRecord, evalRecord?: OpenAiEvalRecord): Promise<RunView> => {
    const evalOf = evalRecord ?? (await deps.evals.get(record.accountId, record.evalId));
    const job = await store.jobs.get(record.accountId, record.jobId);
    if (!job || record.run.summary) return { record, eval: evalOf, job };
    const summary = await summarize(store, job, evalOf.eval.testing_criteria as never);
    record = { ...record, run: { ...record.run, summary } };
    // Counts of a finished job never change: computed once, then kept with the run; live before.
    if (isTerminal(job.state)) await store.openaiEvals.updateRun(record);
    return { record, eval: evalOf, job };
  };

  const getRecord = async (accountId: string, evalId: string, runId: string): Promise<OpenAiRunRecord> => {
    const record = await store.openaiEvals.getRun(accountId, evalId, runId);
    if (!record) throw notFound(`run_id: run "${runId}" of eval "${evalId}" not found`);
    return record;
  };

  /** A file_id source: the named Tally dataset, READY, each row an item the eval's schema accepts. */
  const namedDataset = async (accountId: string, source: Record<string, unknown>, evalRecord: OpenAiEvalRecord): Promise<{ id: string; items: RunItem[] }> => {
    const id = typeof source['id'] === 'string' ? source['id'].replace(/^accounts\/[^/]+\/datasets\//, '') : '';
    const dataset = await store.datasets.get(accountId, id);
    if (!dataset) throw notFound(`data_source.source.id: no dataset "${String(source['id'])}" in this account (a file_id names a Tally dataset)`);
    if (dataset.state !== 'READY' || dataset.rowSetId === null) throw failedPrecondition(`data_source.source.id: dataset "${id}" is ${dataset.state}, not READY`);
    const items: RunItem[] = [];
    for await (const page of readRowSet(store, dataset.rowSetId)) {
      for (const text of page) items.push(checkRunItem(JSON.parse(text), evalRecord.eval.data_source_config, `data_source.source.id: row ${items.length}`));
    }
    return { id, items };
  };

  /**
   * The job's input and rollout: a jsonl run over a named dataset uses it as it is; otherwise a
   * new dataset of the rows (a completions run's rows carry the rendered messages to sample with).
   */
  const inputOf = async (principal: Principal, evalRecord: OpenAiEvalRecord, dataSource: Record<string, unknown> & { source: Record<string, unknown> }, tallyId: string) => {
    const named = dataSource.source['type'] === 'file_id' ? await namedDataset(principal.accountId, dataSource.source, evalRecord) : undefined;
    const items = named?.items ?? fileContentItems(dataSource.source, evalRecord.eval.data_source_config);
    const graders = evalRecord.eval.testing_criteria as Grader[];
    const modelGrader = graders.find((g) => MODEL_GRADER_TYPES.has(g.type));
    const cosine = cosineGradersOf(graders)[0];
    const caller = modelGrader ? `grader "${modelGrader.name}" calls a model` : cosine ? `grader "${cosine.key}" calls an embeddings model` : undefined;
    if (caller && dataSource['type'] === 'completions') {
      throw failedPrecondition(`data_source.type: this eval's ${caller}, and a completions run would need a second model call per item, which this server does not make yet; send the samples in a "jsonl" run`);
    }
    if (named && dataSource['type'] === 'jsonl' && !caller) return { datasetId: named.id, created: false, model: '', rollout: undefined };
    const sampled = dataSource['type'] === 'completions' ? completionsJob(dataSource, items, deps.models) : undefined;
    const judged = modelGrader ? graderCallJob(modelGrader, items, deps.models) : cosine ? cosineCallJob(graders, items, deps.models, deps.embeddingModel) : undefined;
    await deps.datasets.create(principal, { datasetId: tallyId, dataset: { displayName: `items of OpenAI eval run ${tallyId}`, origin: {} } });
    await deps.datasets.upload(principal.accountId, tallyId, jsonlBytes(sampled?.rows ?? judged?.rows ?? items));
    return { datasetId: tallyId, created: true, model: sampled?.model ?? '', rollout: sampled?.rollout ?? judged?.rollout };
  };

  return {
    async create(principal: Principal, evalId: string, input: RunCreateInput): Promise<RunView> {
      const evalRecord = await deps.evals.get(principal.accountId, evalId);
      const dataSource = dataSourceOf(input.data_source);
      const metadata = checkMetadata(input.metadata);
      if (input.name !== undefined && typeof input.name !== 'string') throw invalidArgument('name: must be a string');
      const id = openAiId(RUN_ID_PREFIX);
      const tallyId = tallyIdOf(id);
      const acc = `accounts/${principal.accountId}`;
      const input_ = await inputOf(principal, evalRecord, dataSource, tallyId);
      try {
        await deps.jobs.create(principal, {
          evaluationJobId: tallyId, leaderboardIds: [],
          job: {
            evaluator: `${acc}/evaluators/${evalRecord.evaluatorId}`, inputDataset: `${acc}/datasets/${input_.datasetId}`, outputDataset: `${acc}/datasets/${tallyId}-output`,
            displayName: (input.name as string | undefined) || id, settings: {}, ...(input_.rollout ? { rollout: input_.rollout } : {}),
          },
        });
      } catch (error: unknown) {
        if (input_.created) await deps.datasets.delete(principal.accountId, input_.datasetId);
        throw error;
      }
      const record: OpenAiRunRecord = {
        accountId: principal.accountId, id, evalId, createdAt: unixNow(), jobId: tallyId,
        run: { name: (input.name as string | undefined) || id, metadata, model: input_.model, data_source: dataSource },
      };
      await store.openaiEvals.createRun(record);
      return view(record, evalRecord);
    },

    async get(accountId: string, evalId: string, runId: string): Promise<RunView> {
      return view(await getRecord(accountId, evalId, runId));
    },

    async list(accountId: string, evalId: string, request: CursorRequest & { status?: RunStatus }) {
      const evalRecord = await deps.evals.get(accountId, evalId);
      const page = await store.openaiEvals.listRuns(accountId, evalId, { ...request, jobStates: request.status && JOB_STATES_OF_STATUS[request.status] });
      const items: RunView[] = [];
      for (const record of page.items) items.push(await view(record, evalRecord));
      return { ...page, items };
    },

    async cancel(accountId: string, evalId: string, runId: string): Promise<RunView> {
      const record = await getRecord(accountId, evalId, runId);
      await deps.jobs.cancel(accountId, record.jobId);
      return view(record);
    },

    async delete(accountId: string, evalId: string, runId: string): Promise<void> {
      const record = await getRecord(accountId, evalId, runId);
      await store.openaiEvals.deleteRun(accountId, evalId, runId);
      await deleteRunJob(accountId, record.jobId);
    },

    deleteRunJob: (accountId: string, jobId: string) => deleteRunJob(accountId, jobId),
  };

  /** A run's job, its output dataset and the items dataset the run made (a named file_id dataset stays). */
  async function deleteRunJob(accountId: string, jobId: string): Promise<void> {
    const job = await store.jobs.get(accountId, jobId);
    if (job) await deps.jobs.delete(accountId, jobId);
    for (const datasetId of [jobId, `${jobId}-output`]) {
      if (await store.datasets.get(accountId, datasetId)) await deps.datasets.delete(accountId, datasetId);
    }
  }
}

export type RunService = ReturnType<typeof createRunService>;
