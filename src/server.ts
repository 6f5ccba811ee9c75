import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { databaseUrlOf, type Config } from './config/index.js';
import type { EvaluatorRecord } from './domain/evaluators.js';
import { buildHttpApp } from './http/app.js';
import { createPreviewRunner } from './runner/preview.js';
import { createWakeup, type Wakeup } from './runner/wakeup.js';
import { createWorker, type Worker } from './runner/worker.js';
import { parseRateLimits } from './runner/rollout/index.js';
import { createEvaluatorRuntime, type EvaluatorRuntime } from './runtime.js';
import { createServices, type Services } from './services/index.js';
import { createRateLimiter } from './services/rate-limit.js';
import { createSecretCipher, loadSecretKey, type SecretCipher } from './services/secret-cipher.js';
import { createSecretEnv } from './services/secrets.js';
import { createStorageReclaimer } from './services/storage-reclaim.js';
import { openStore, type Store } from './store/index.js';

export interface RunningServer {
  url: string;
  store: Store;
  services: Services;
  app: FastifyInstance;
  /** Set on first start: the account created and its admin key (shown once). */
  bootstrapKey: { accountId: string; key: string } | undefined;
  worker: Worker | undefined;
  close(): Promise<void>;
}

/** How long open requests (a long download, a slow upload) may take to finish at shutdown. */
const CLOSE_GRACE_MS = 1_000;
/** WordNet 3.0 as Debian's wordnet-base installs it: the OpenAI meteor grader reads it in the sandbox (graders.py). */
const WORDNET_DATA = '/usr/share/wordnet/data.noun';

/** The composition root: config in, a listening server out. */
export async function startServer(config: Config, { log = (_line: string) => {} } = {}): Promise<RunningServer> {
  // The data directory is traversable but not listable by others: sandboxed evaluators (another
  // uid) must reach their builds inside it but never the database files.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o711 });
  const runtime = await createEvaluatorRuntime(config);
  for (const warning of runtime.warnings) log(warning);
  const startTime = new Date().toISOString();
  const store = await openStore({ url: databaseUrlOf(config) });
  const reclaimer = createStorageReclaimer(store, { log });
  await reclaimer.atStart(startTime);
  reclaimer.start();
  const wakeup = createWakeup();
  // The in-process worker starts once the server listens; builds that finish before then have none.
  let prewarm: (evaluator: EvaluatorRecord) => void = () => {};
  const services = createServices(store, {
    jobEvents: { onRunnable: () => wakeup.notify() },
    onEvaluatorBuilt: (evaluator) => prewarm(evaluator),
    secretCipher: secretCipherOf(config),
    builder: runtime.builder,
    previewRunner: createPreviewRunner(runtime.launcher, runtime.box),
    buildConcurrency: config.buildConcurrency,
    jobDefaults: { perRowTimeoutMs: config.perRowTimeoutSeconds * 1000 },
    workerSlots: config.workerSlots,
    maxUploadBytes: config.maxUploadBytes,
    hasBuild: (buildDir) => existsSync(join(buildDir, 'manifest.json')),
    signedUrls: { uploadTtlSeconds: config.signedUrlTtlSeconds, downloadTtlSeconds: config.signedUrlTtlSeconds },
    openaiModels: config.openaiModels,
    openaiEmbeddingModel: config.openaiEmbeddingModel,
    wordnet: existsSync(WORDNET_DATA),
  });
  const created = await services.accounts.bootstrap({ accountId: config.accountId, email: config.accountEmail, apiKey: config.apiKey });
  const resumed = await services.builds.resumePending();
  if (resumed > 0) log(`resuming ${resumed} evaluator build(s) interrupted by the last shutdown`);
  const app = await buildHttpApp(services, {
    publicBaseUrl: config.publicBaseUrl,
    maxUploadBytes: config.maxUploadBytes,
    tls: tlsOf(config),
    rateLimiter: createRateLimiter({ perMinute: config.rateLimitPerMinute, burst: config.rateLimitBurst }),
    onInternalError: (error, request) => log(`internal error on ${request.method} ${request.url}: ${String((error as Error).stack ?? error)}`),
  });
  await app.listen({ host: config.host, port: config.port });
  const worker = config.inProcessWorker ? startWorker(store, runtime, { config, log, wakeup }) : undefined;
  if (worker) prewarm = (evaluator) => worker.prewarm(evaluator);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `${config.tlsCert ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  return {
    url,
    store,
    services,
    app,
    bootstrapKey: created && { accountId: config.accountId, key: created.key },
    worker,
    /**
     * Quick (SIGTERM): stops taking requests, chunks and builds at once. The worker releases the
     * chunks it holds and running builds are killed, both for the next start (or another
     * worker) to take; requests still open after a grace second are cut off.
     */
    async close() {
      const cutOff = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
      try {
        await Promise.all([app.close(), reclaimer.stop(), worker?.stop(), services.builds.stop()]);
      } finally {
        clearTimeout(cutOff);
      }
      await store.close();
    },
  };
}

function tlsOf(config: Config): { cert: Buffer; key: Buffer } | undefined {
  if (!config.tlsCert || !config.tlsKey) return undefined;
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error: unknown) {
      throw new Error(`${what}: cannot read "${path}" (${(error as Error).message})`, { cause: error });
    }
  };
  return { cert: read(config.tlsCert, 'tlsCert'), key: read(config.tlsKey, 'tlsKey') };
}

/** The key comes from config, else from `<dataDir>/secret.key` (see docs/security.md). */
function secretCipherOf(config: Config): SecretCipher {
  return createSecretCipher(loadSecretKey({ secretKey: config.secretKey, dataDir: config.dataDir }));
}

/** The worker that scores job chunks; `tally worker` starts the same one in its own process. */
export function startWorker(
  store: Store,
  runtime: EvaluatorRuntime,
  { config, log, wakeup }: { config: Config; log: (line: string) => void; wakeup?: Wakeup },
): Worker {
  const worker = createWorker(store, runtime.launcher, runtime.box, {
    slots: config.workerSlots,
    leaseMs: config.leaseSeconds * 1000,
    accountConcurrency: config.accountConcurrency,
    scoreCache: { maxEntriesPerAccount: config.scoreCacheMaxEntries, minRowMs: config.scoreCacheMinRowMs },
    builder: runtime.builder,
    secretEnv: createSecretEnv(store, secretCipherOf(config)),
    rolloutRateLimits: parseRateLimits(config.rolloutRateLimits),
    wakeup,
    log,
  });
  worker.start();
  return worker;
}
