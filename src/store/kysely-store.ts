import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { migrationProvider } from './migrations/index.js';
import type { Dialect, SpaceReport, Store } from './port.js';
import { createAccountRepo } from './repos/accounts.js';
import { createApiKeyRepo } from './repos/api-keys.js';
import { createBlobRepo } from './repos/blobs.js';
import { createDatasetRepo } from './repos/datasets.js';
import { createEvaluatorRevisionRepo } from './repos/evaluator-revisions.js';
import { createEvaluatorRepo } from './repos/evaluators.js';
import { createJobRepo, type JobWrites } from './repos/jobs.js';
import { createLeaderboardRepo } from './repos/leaderboards.js';
import { createOpenAiEvalRepo } from './repos/openai-evals.js';
import { createRowRepo } from './repos/rows.js';
import { createScoreCacheRepo } from './repos/score-cache.js';
import { createSecretRepo } from './repos/secrets.js';
import { createSignedUrlRepo } from './repos/signed-urls.js';
import type { Database } from './schema.js';

/** The repositories over one Kysely instance: the same typed queries serve both dialects. */
export function createKyselyStore(
  db: Kysely<Database>,
  dialect: Dialect,
  { jobWrites, reclaimSpace }: { jobWrites?: JobWrites; reclaimSpace?: (options: { full: boolean }) => Promise<SpaceReport> } = {},
): Store {
  return {
    dialect,
    accounts: createAccountRepo(db),
    apiKeys: createApiKeyRepo(db),
    datasets: createDatasetRepo(db),
    rows: createRowRepo(db),
    signedUrls: createSignedUrlRepo(db),
    evaluators: createEvaluatorRepo(db),
    evaluatorRevisions: createEvaluatorRevisionRepo(db),
    blobs: createBlobRepo(db),
    jobs: createJobRepo(db, dialect, jobWrites),
    leaderboards: createLeaderboardRepo(db),
    secrets: createSecretRepo(db),
    scoreCache: createScoreCacheRepo(db),
    openaiEvals: createOpenAiEvalRepo(db),
    reclaimSpace: async (options) => reclaimSpace?.(options),
    close: () => db.destroy(),
  };
}

export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider(dialect),
    migrationTableName: 'tally_migrations',
    migrationLockTableName: 'tally_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed`, { cause: error });
  }
}
