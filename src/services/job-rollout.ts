/**
 * A job's rollout step at create: what the job asks for over what its evaluator declares,
 * checked against the account (the API key's secret must exist) and the evaluator (rows are
 * rolled out one at a time, so its mode must take them one at a time).
 */
import { failedPrecondition, invalidArgument } from '../domain/errors.js';
import type { DeclaredRollout, EvaluatorRecord } from '../domain/evaluators.js';
import { modelWithoutProvider, resolveRollout, type CompletionParams, type RolloutInput, type RolloutSettings } from '../domain/rollout.js';
import type { Store } from '../store/index.js';

/** eval-protocol rollout processors a Tally job can run: the rollout itself, or none. */
const SINGLE_TURN = 'SingleTurnRolloutProcessor';
const NO_OP = 'NoOpRolloutProcessor';

export async function rolloutOfJob(store: Store, accountId: string, asked: RolloutInput | undefined, evaluator: EvaluatorRecord): Promise<RolloutSettings | undefined> {
  const declared = declaredInput(evaluator);
  if (!asked && !declared) return undefined;
  if (evaluator.mode === 'groupwise' || evaluator.mode === 'all') {
    throw failedPrecondition(`evaluationJob.rollout: evaluator "${evaluator.id}" takes rows ${evaluator.mode === 'all' ? 'all at once' : 'by group'}; rollouts are supported for pointwise evaluators only`);
  }
  const rollout = resolveRollout(asked ?? {}, declared ?? {});
  if (rollout.apiKeySecret && !(await store.secrets.listAll(accountId)).some((s) => s.keyName === rollout.apiKeySecret)) {
    throw invalidArgument(`evaluationJob.rollout.apiKeySecret: the account has no secret with keyName "${rollout.apiKeySecret}"; create it first (POST .../secrets)`);
  }
  return rollout;
}

/**
 * The rollout an eval-protocol evaluator declares, as job fields: SingleTurnRolloutProcessor with
 * completion_params generates (the job's fields override); NoOpRolloutProcessor, and
 * SingleTurnRolloutProcessor without completion_params (eval-protocol's default processor on
 * rows that already hold their answers), score the rows as they are; any other is refused.
 */
function declaredInput(evaluator: EvaluatorRecord): RolloutInput | undefined {
  const declared = evaluator.declaredRollout;
  if (!declared?.processor || declared.processor === NO_OP) return undefined;
  if (declared.processor !== SINGLE_TURN) {
    throw failedPrecondition(
      `evaluator "${evaluator.id}" declares rollout_processor=${declared.processor}, which Tally cannot run; supported: ${SINGLE_TURN} (Tally calls the model named by completion_params or the job's rollout) and ${NO_OP} (the rows are scored as they are)`,
    );
  }
  if (!declared.completionParams) return undefined;
  return fromCompletionParams(declared);
}

/** LiteLLM's own settings among completion_params: how LiteLLM calls, not what the endpoint is sent. */
const LITELLM_CLIENT_KEYS = new Set(['custom_llm_provider', 'num_retries', 'max_retries', 'timeout', 'request_timeout', 'drop_params', 'api_version', 'caching', 'mock_response']);

/** eval-protocol / LiteLLM completion_params as rollout fields; keys Tally does not name go in the body as they are (LiteLLM's own settings excepted). */
function fromCompletionParams({ completionParams: cp, numRuns, passedThreshold, maxConcurrentRollouts }: DeclaredRollout): RolloutInput {
  const { model, base_url: baseUrl, api_base: apiBase, api_key: _key, temperature, top_p, max_tokens, stop, seed, extra_body: extraBody, ...rest } = cp ?? {};
  const passed = Object.fromEntries(Object.entries(rest).filter(([key]) => !LITELLM_CLIENT_KEYS.has(key)));
  const params: CompletionParams = { extraBody: { ...(isObject(extraBody) ? extraBody : {}), ...passed } };
  if (typeof temperature === 'number') params.temperature = temperature;
  if (typeof top_p === 'number') params.top_p = top_p;
  if (typeof max_tokens === 'number') params.max_tokens = max_tokens;
  if (typeof stop === 'string' || Array.isArray(stop)) params.stop = stop as string | string[];
  if (typeof seed === 'number') params.seed = seed;
  const input: RolloutInput = { params, numRuns };
  const url = typeof baseUrl === 'string' ? baseUrl : typeof apiBase === 'string' ? apiBase : undefined;
  if (url) input.baseUrl = url;
  if (typeof model === 'string') input.model = modelWithoutProvider(model);
  if (passedThreshold !== null) input.passThreshold = passedThreshold;
  if (typeof maxConcurrentRollouts === 'number') input.maxConcurrentRollouts = maxConcurrentRollouts;
  return input;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
