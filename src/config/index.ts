import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * One typed configuration, layered defaults < config file < environment < flags, parsed once at
 * start by the composition root and passed down. Nothing else reads process.env.
 */
export const configSchema = z.strictObject({
  /** @default "127.0.0.1" */
  host: z.string().min(1).default('127.0.0.1'),
  /** @default 8000 */
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  /** Where the SQLite file, builds and blobs live. @default "./.tally" */
  dataDir: z.string().min(1).default('.tally'),
  /** `postgres://...` or `sqlite:/path`; default: the SQLite file `<dataDir>/tally.db`. */
  database: z.string().optional(),
  /** The account created on first start. @default "default" */
  accountId: z.string().default('default'),
  /** The email of that account, set when it is created (the SDK's Account requires one). @default "" */
  accountEmail: z.string().max(320).default(''),
  /** An admin key to create for that account instead of a random one. */
  apiKey: z.string().min(16, 'apiKey: use at least 16 characters').optional(),
  /**
   * PEM files of a certificate (with its chain) and its private key: given both, Tally serves
   * HTTPS itself and its signed URLs are https. Behind a TLS-terminating proxy leave them unset
   * and set `publicBaseUrl` to the proxy's https URL instead.
   */
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  /** Base URL written into signed URLs; default: the URL each client used. */
  publicBaseUrl: z.string().url().optional(),
  /** Largest uploaded file. @default 1073741824 (1 GiB) */
  maxUploadBytes: z.coerce.number().int().positive().default(1024 ** 3),
  /** Lifetime of signed URLs, seconds. @default 3600 */
  signedUrlTtlSeconds: z.coerce.number().int().positive().default(3600),
  /**
   * How evaluator code is isolated. `insecure-local` runs it with the server's own user, files
   * and network: only for a machine without bubblewrap that runs nothing but your own code.
   * @default "bubblewrap"
   */
  sandbox: z.enum(['bubblewrap', 'insecure-local']).default('bubblewrap'),
  /** The bubblewrap binary. @default "/usr/bin/bwrap" */
  bwrapPath: z.string().min(1).default('/usr/bin/bwrap'),
  /** Where Python environments are cached (shared by all evaluators with the same requirements). @default "<dataDir>/envs" */
  envDir: z.string().min(1).optional(),
  /**
   * Where evaluators with `source.type: TYPE_GITHUB` are fetched from: `<gitBaseUrl>/<owner>/<repo>`.
   * A `file://` base serves local repositories (tests, mirrors). @default "https://github.com"
   */
  gitBaseUrl: z
    .string()
    .regex(/^(https?|file):\/\/\S*$/, 'gitBaseUrl: expected an http(s):// or file:// URL')
    .transform((url) => url.replace(/\/+$/, ''))
    .default('https://github.com'),
  /** Run a worker inside the server process. @default true */
  inProcessWorker: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((v) => v === true || v === 'true' || v === '1')
    .default(true),
  /**
   * Chunks a worker scores at once. One more than the cores: a slot's sandbox process waits while
   * the runner reads its results and hands it the next chunk, and the extra slot's process fills
   * those gaps (measured with bench/job.ts on 2 cores: 3 slots ~15% faster than 2, 4 slower).
   * @default the number of cores + 1
   */
  workerSlots: z.coerce.number().int().min(1).max(256).default(availableParallelism() + 1),
  /** Seconds a chunk lease lasts without renewal (how long a dead worker's chunk waits). @default 30 */
  leaseSeconds: z.coerce.number().positive().max(3600).default(30),
  /** Live chunk leases per account across all workers; 0 = no limit. @default 0 */
  accountConcurrency: z.coerce.number().int().min(0).default(0),
  /** Score cache entries kept per account; the least recently used are evicted beyond it. @default 1000000 */
  scoreCacheMaxEntries: z.coerce.number().int().min(1).default(1_000_000),
  /** Rows scored faster than this many ms are not cached (re-scoring them is cheaper). @default 1 */
  scoreCacheMinRowMs: z.coerce.number().min(0).default(1),
  /** Default per-row timeout of new jobs, seconds. @default 60 */
  perRowTimeoutSeconds: z.coerce.number().positive().max(3600).default(60),
  /** Evaluator builds running at once. @default 2 */
  buildConcurrency: z.coerce.number().int().min(1).max(64).default(2),
  /**
   * The AES-256 key that encrypts account secrets at rest: 32 bytes, base64. Default: the file
   * `<dataDir>/secret.key`, created on first start. Every server and worker sharing a database
   * must be given the same key.
   */
  secretKey: z
    .string()
    .refine((v) => Buffer.from(v.trim(), 'base64').length === 32, 'expected 32 bytes in base64 (e.g. from "openssl rand -base64 32")')
    .optional(),
  /**
   * Sustained requests a minute per API key, counted in each server process's memory (N servers
   * allow N times this); signed URLs are not counted. 0 = no limit. @default 6000
   */
  rateLimitPerMinute: z.coerce.number().int().min(0).default(6000),
  /** Requests a key may make at once before the per-minute rate applies. @default 200 */
  rateLimitBurst: z.coerce.number().int().min(1).default(200),
  /**
   * Requests per second a worker sends to a rollout endpoint, by origin:
   * `https://api.example.com=5,http://10.0.0.2:8000=50`. Endpoints not named are not limited
   * (beyond each job's maxConcurrentRollouts). @default ""
   */
  rolloutRateLimits: z.string().default(''),
  /**
   * The OpenAI Evals face's model names (a run's `data_source.model`) and the OpenAI-compatible
   * endpoint each is sampled from (docs/openai-evals.md): `{"name": {"baseUrl": "http://gpu-1:8000/v1",
   * "model": "name sent to the endpoint (default: the name)", "apiKeySecret": "an account secret's keyName"}}`.
   * In the environment, the same object as JSON. @default {}
   */
  openaiModels: z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() === '' ? {} : (JSON.parse(v) as unknown)) : v),
    z.record(z.string().min(1), z.strictObject({ baseUrl: z.url(), model: z.string().min(1).optional(), apiKeySecret: z.string().min(1).optional() })),
  ).default({}),
  /**
   * The model the OpenAI Evals face's `text_similarity` `cosine` grader embeds with: a name in
   * openaiModels, whose endpoint answers `<baseUrl>/embeddings`. Unmapped, cosine is refused.
   * @default "text-embedding-3-large"
   */
  openaiEmbeddingModel: z.string().min(1).default('text-embedding-3-large'),
  /**
   * The one package index evaluator builds install from (a mirror, or an unreachable address to
   * keep builds off the network, as scripts/fuzz-api does). @default pip's own
   */
  pipIndexUrl: z.string().regex(/^https?:\/\/\S+$/, 'pipIndexUrl: expected an http(s):// URL').optional(),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** The environment variables Tally reads, and the config key each one sets. */
export const ENVIRONMENT_KEYS: Record<string, keyof Config> = {
  TALLY_HOST: 'host',
  TALLY_PORT: 'port',
  TALLY_DATA_DIR: 'dataDir',
  TALLY_DATABASE_URL: 'database',
  TALLY_ACCOUNT_ID: 'accountId',
  TALLY_API_KEY: 'apiKey',
  TALLY_ACCOUNT_EMAIL: 'accountEmail',
  TALLY_PUBLIC_BASE_URL: 'publicBaseUrl',
  TALLY_TLS_CERT: 'tlsCert',
  TALLY_TLS_KEY: 'tlsKey',
  TALLY_MAX_UPLOAD_BYTES: 'maxUploadBytes',
  TALLY_SANDBOX: 'sandbox',
  TALLY_BUILD_CONCURRENCY: 'buildConcurrency',
  TALLY_ENV_DIR: 'envDir',
  TALLY_WORKER_SLOTS: 'workerSlots',
  TALLY_IN_PROCESS_WORKER: 'inProcessWorker',
  TALLY_LEASE_SECONDS: 'leaseSeconds',
  TALLY_ACCOUNT_CONCURRENCY: 'accountConcurrency',
  TALLY_SCORE_CACHE_MAX_ENTRIES: 'scoreCacheMaxEntries',
  TALLY_SCORE_CACHE_MIN_ROW_MS: 'scoreCacheMinRowMs',
  TALLY_GIT_BASE_URL: 'gitBaseUrl',
  TALLY_SECRET_KEY: 'secretKey',
  TALLY_RATE_LIMIT_PER_MINUTE: 'rateLimitPerMinute',
  TALLY_RATE_LIMIT_BURST: 'rateLimitBurst',
  TALLY_ROLLOUT_RATE_LIMITS: 'rolloutRateLimits',
  TALLY_OPENAI_MODELS: 'openaiModels',
  TALLY_OPENAI_EMBEDDING_MODEL: 'openaiEmbeddingModel',
  TALLY_PIP_INDEX_URL: 'pipIndexUrl',
};

export function loadConfig({
  env,
  flags,
  configFile,
}: {
  env: Record<string, string | undefined>;
  flags: Partial<Record<keyof Config, unknown>>;
  configFile?: string;
}): Config {
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENVIRONMENT_KEYS)) if (env[name] !== undefined && env[name] !== '') fromEnv[key] = env[name];
  const file = configFile ?? (env['TALLY_CONFIG'] || undefined);
  const fromFile = file ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const definedFlags = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const result = configSchema.safeParse({ ...fromFile, ...fromEnv, ...definedFlags });
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  if ((result.data.tlsCert === undefined) !== (result.data.tlsKey === undefined)) {
    throw new Error('invalid configuration: tlsCert and tlsKey go together (give both files, or neither)');
  }
  return { ...result.data, dataDir: resolve(result.data.dataDir) };
}

export function databaseUrlOf(config: Config): string {
  return config.database ?? `sqlite:${join(config.dataDir, 'tally.db')}`;
}
