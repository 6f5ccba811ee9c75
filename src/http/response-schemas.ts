/**
 * The JSON Schemas of success (200) bodies in /openapi.json, by operationId, so that clients and
 * the fuzzer (scripts/fuzz-api) can check what comes back. Fields a `readMask` can leave out are
 * typed but not required; `additionalProperties` stays open, as proto3 JSON readers expect.
 */
type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const strOrNull: Schema = { type: ['string', 'null'] };
const int64: Schema = { type: 'string', pattern: '^-?\\d+$' };
const obj: Schema = { type: 'object' };
const objOrNull: Schema = { type: ['object', 'null'] };

const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, ...(required.length ? { required } : {}) });
const named = (pattern: string): Schema => ({ type: 'string', pattern });
const list = (plural: string, item: Schema): Schema =>
  object({ [plural]: { type: 'array', items: item }, nextPageToken: str, totalSize: { type: 'integer', minimum: 0 } }, [plural, 'nextPageToken', 'totalSize']);

const RESOURCE = (collection: string) => named(`^accounts/[a-z0-9-]+/${collection}/[a-z0-9-]+$`);
const times = { createTime: str, updateTime: str };

const DATASET = object({
  name: RESOURCE('datasets'), displayName: strOrNull, ...times, createdBy: strOrNull, state: str, status: objOrNull,
  exampleCount: int64, format: strOrNull, averageTurnCount: { type: ['number', 'null'] }, estimatedTokenCount: int64,
});
const EVALUATOR = object({
  name: RESOURCE('evaluators'), displayName: strOrNull, description: strOrNull, ...times, createdBy: strOrNull, state: str, status: objOrNull,
  criteria: { type: 'array', items: obj }, requirements: strOrNull, entryPoint: strOrNull, commitHash: strOrNull, source: objOrNull,
  defaultDataset: strOrNull, multiMetrics: { type: 'boolean' }, rollupSettings: objOrNull, allowEgress: { type: 'boolean' },
});
const JOB = object({
  name: RESOURCE('evaluationJobs'), displayName: strOrNull, ...times, createdBy: strOrNull, state: str, status: objOrNull,
  evaluator: RESOURCE('evaluators'), inputDataset: RESOURCE('datasets'), outputDataset: RESOURCE('datasets'),
  metrics: objOrNull, outputStats: strOrNull, progress: objOrNull, settings: obj, leaderboardIds: { type: 'array', items: str }, egress: { type: 'boolean' },
});
const RESULT = object({ index: { type: 'integer', minimum: 0 }, score: { type: ['number', 'null'] }, isScoreValid: { type: 'boolean' }, errorKind: strOrNull, ms: { type: ['number', 'null'] }, row: {} });
const SECRET = object({ name: RESOURCE('secrets'), keyName: str, ...times });
const API_KEY = object({ name: RESOURCE('apiKeys'), keyId: str, displayName: strOrNull, role: { enum: ['admin', 'user'] }, prefix: str, createTime: str });
const LEADERBOARD = object({ name: RESOURCE('leaderboards'), displayName: strOrNull, description: strOrNull, ...times, jobCount: { type: 'integer', minimum: 0 }, source: objOrNull });
const EMPTY = object({});
const withName = (schema: Schema): Schema => ({ ...schema, required: ['name'] });

export const RESPONSE_SCHEMAS: Readonly<Record<string, Schema>> = {
  GetAccount: object({ name: named('^accounts/[a-z0-9-]+$'), accountId: str }, ['name', 'accountId']),
  CreateApiKey: { ...withName(API_KEY), properties: { ...(API_KEY['properties'] as Schema), key: str }, required: ['name', 'key'] },
  ListApiKeys: list('apiKeys', API_KEY),
  GetApiKey: API_KEY,
  DeleteApiKey: EMPTY,
  CreateDataset: withName(DATASET),
  ListDatasets: list('datasets', DATASET),
  GetDataset: DATASET,
  UpdateDataset: withName(DATASET),
  DeleteDataset: EMPTY,
  CreateEvaluator: withName(EVALUATOR),
  CreateEvaluatorV2: withName(EVALUATOR),
  ListEvaluators: list('evaluators', EVALUATOR),
  GetEvaluator: EVALUATOR,
  UpdateEvaluator: withName(EVALUATOR),
  DeleteEvaluator: EMPTY,
  CreateEvaluationJob: withName(JOB),
  ListEvaluationJobs: list('evaluationJobs', JOB),
  GetEvaluationJob: JOB,
  DeleteEvaluationJob: EMPTY,
  CancelEvaluationJob: withName(JOB),
  ListEvaluationJobResults: list('results', RESULT),
  CreateLeaderboard: withName(LEADERBOARD),
  ListLeaderboards: list('leaderboards', LEADERBOARD),
  GetLeaderboard: LEADERBOARD,
  DeleteLeaderboard: EMPTY,
  ListLeaderboardEvaluationJobs: list('evaluationJobs', JOB),
  CreateSecret: withName(SECRET),
  ListSecrets: list('secrets', SECRET),
  GetSecret: SECRET,
  UpdateSecret: withName(SECRET),
  DeleteSecret: EMPTY,
  PutSignedUpload: EMPTY,
};

/** Operations whose 200 body is a file's bytes, not JSON. */
export const BINARY_RESPONSES: ReadonlySet<string> = new Set(['GetSignedDownload']);
