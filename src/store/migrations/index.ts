import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import type { Dialect } from '../port.js';
import * as initial from './0001-initial.js';
import * as evaluators from './0002-evaluators.js';
import * as jobs from './0003-jobs.js';
import * as secrets from './0004-secrets.js';
import * as evaluatorMode from './0005-evaluator-mode.js';
import * as rowBlocks from './0006-row-blocks.js';
import * as chunkResults from './0007-chunk-results.js';
import * as dropResultScoreIndex from './0008-drop-result-score-index.js';
import * as rowBlockLayout from './0009-row-block-layout.js';
import * as derivedRowSets from './0010-derived-row-sets.js';
import * as accountEmailJobS3 from './0011-a-account-email-job-s3.js';
import * as datasetUploadFiles from './0011-b-dataset-upload-files.js';
import * as evaluatorRevisions from './0011-c-evaluator-revisions.js';
import * as declaredRollout from './0013-declared-rollout.js';
import * as scoreCache from './0014-score-cache.js';
import * as openaiEvals from './0017-openai-evals.js';

/** Numbered migrations, applied in order at start. Append; never edit one that has shipped. */
const MIGRATIONS: Record<string, { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> }> = {
  '0001-initial': initial,
  '0002-evaluators': evaluators,
  '0003-jobs': jobs,
  '0004-secrets': secrets,
  '0005-evaluator-mode': evaluatorMode,
  '0006-row-blocks': rowBlocks,
  '0007-chunk-results': chunkResults,
  '0008-drop-result-score-index': dropResultScoreIndex,
  '0009-row-block-layout': rowBlockLayout,
  '0010-derived-row-sets': derivedRowSets,
  '0011-a-account-email-job-s3': accountEmailJobS3,
  '0011-b-dataset-upload-files': datasetUploadFiles,
  '0011-c-evaluator-revisions': evaluatorRevisions,
  '0013-declared-rollout': declaredRollout,
  '0014-score-cache': scoreCache,
  '0017-openai-evals': openaiEvals,
};

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    getMigrations(): Promise<Record<string, Migration>> {
      const entries = Object.entries(MIGRATIONS).map(([name, m]) => [
        name,
        { up: (db: Kysely<unknown>) => m.up(db, dialect) } satisfies Migration,
      ]);
      return Promise.resolve(Object.fromEntries(entries) as Record<string, Migration>);
    },
  };
}
