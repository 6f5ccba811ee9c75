import { failedPrecondition, invalidArgument, notFound } from '../domain/errors.js';
import { REVISION_KEYWORDS, type EvaluatorRecord, type EvaluatorRevision } from '../domain/evaluators.js';
import { assertValidId } from '../domain/names.js';
import { nowIso } from '../domain/types.js';
import type { ListPage, ListRequest, Store } from '../store/index.js';

/**
 * Records a finished build (the evaluator as its outcome leaves it) as a revision,
 * `v<build generation>`, and answers its id: the build queue then makes it the evaluator's
 * current one, since the evaluator is its current revision.
 */
export async function recordRevision(store: Store, built: EvaluatorRecord): Promise<string> {
  const id = `v${built.buildGeneration}`;
  const snapshot: EvaluatorRecord = { ...built, currentRevisionId: id };
  if (!(await store.evaluatorRevisions.get(built.accountId, built.id, id))) {
    await store.evaluatorRevisions.create({ accountId: built.accountId, evaluatorId: built.id, id, seq: built.buildGeneration, createTime: nowIso(), snapshot, aliases: [] });
  }
  return id;
}

/** A build whose outcome lost to a newer request leaves no revision. */
export async function discardRevision(store: Store, evaluator: EvaluatorRecord, id: string): Promise<void> {
  await store.evaluatorRevisions.delete(evaluator.accountId, evaluator.id, id);
}

export interface RevisionServiceOptions {
  /** Whether a build is still on disk here (a rollback then needs no rebuild). */
  hasBuild: (buildDir: string) => boolean;
  /** Builds a revision's source again when its build is gone. */
  rebuild: (evaluator: EvaluatorRecord, from: EvaluatorRecord) => Promise<EvaluatorRecord>;
  /** Told when the evaluator is ACTIVE again through a rollback (waiting jobs may run). */
  onActive?: (evaluator: EvaluatorRecord) => Promise<void>;
}

/** `.../evaluators/{e}/versions[/{v}]`: list, get, delete, :alias, :rollback. */
export function createRevisionService(store: Store, options: RevisionServiceOptions) {
  const evaluatorOf = async (accountId: string, evaluatorId: string): Promise<EvaluatorRecord> => {
    const evaluator = await store.evaluators.get(accountId, evaluatorId);
    if (!evaluator) throw notFound(`evaluator "accounts/${accountId}/evaluators/${evaluatorId}" not found`);
    return evaluator;
  };

  /** `v` is a revision id, `latest`, `current`, or an alias a user set. */
  const resolve = async (accountId: string, evaluatorId: string, v: string): Promise<{ revision: EvaluatorRevision; evaluator: EvaluatorRecord }> => {
    const evaluator = await evaluatorOf(accountId, evaluatorId);
    const revisions = store.evaluatorRevisions;
    const revision =
      v === 'latest' ? await revisions.latest(accountId, evaluatorId)
      : v === 'current' ? (evaluator.currentRevisionId ? await revisions.get(accountId, evaluatorId, evaluator.currentRevisionId) : undefined)
      : ((await revisions.get(accountId, evaluatorId, v)) ?? (await revisions.findByAlias(accountId, evaluatorId, v)));
    if (!revision) throw notFound(`revision "${v}" of evaluator "${evaluatorId}" not found`);
    return { revision, evaluator };
  };

  /** Makes a revision the evaluator again: its spec, source and build, without a rebuild while the build is there. */
  const rollback = async (accountId: string, evaluatorId: string, v: string): Promise<EvaluatorRecord> => {
    const { revision, evaluator } = await resolve(accountId, evaluatorId, v);
    const from = revision.snapshot;
    if (from.state !== 'ACTIVE') throw failedPrecondition(`revision "${revision.id}" is ${from.state}: only a revision that built can be made current`);
    if (!from.buildDir || !options.hasBuild(from.buildDir)) return options.rebuild(evaluator, from);
    const updated = await store.evaluators.update(accountId, evaluatorId, {
      displayName: from.displayName, description: from.description, spec: from.spec, sourceBlobId: from.sourceBlobId, sourceFilename: from.sourceFilename,
      buildDir: from.buildDir, envHash: from.envHash, mode: from.mode, state: 'ACTIVE',
      status: { code: 'OK', message: `rolled back to revision ${revision.id}` },
      // A build still running for a newer request must not overwrite the rollback.
      buildGeneration: evaluator.buildGeneration + 1, buildRequestTime: '', currentRevisionId: revision.id, updateTime: nowIso(),
    });
    if (!updated) throw notFound(`evaluator "${evaluatorId}" was deleted`);
    await options.onActive?.(updated);
    return updated;
  };

  return {
    resolve,
    rollback,
    async list(accountId: string, evaluatorId: string, request: ListRequest): Promise<{ page: ListPage<EvaluatorRevision>; evaluator: EvaluatorRecord; latestId: string }> {
      const evaluator = await evaluatorOf(accountId, evaluatorId);
      const page = await store.evaluatorRevisions.list(accountId, evaluatorId, request);
      return { page, evaluator, latestId: (await store.evaluatorRevisions.latest(accountId, evaluatorId))?.id ?? '' };
    },
    async latestId(accountId: string, evaluatorId: string): Promise<string> {
      return (await store.evaluatorRevisions.latest(accountId, evaluatorId))?.id ?? '';
    },

    /** `:alias {aliasId}`: the alias moves to this revision; `current` is a rollback. */
    async alias(accountId: string, evaluatorId: string, v: string, aliasId: string): Promise<void> {
      if (aliasId === 'current') return void (await rollback(accountId, evaluatorId, v));
      if (aliasId === 'latest') throw invalidArgument('aliasId: "latest" always names the newest revision and cannot be set');
      assertValidId(aliasId, 'aliasId');
      if (/^v\d+$/.test(aliasId)) throw invalidArgument(`aliasId: "${aliasId}" looks like a revision id; choose another`);
      const { revision } = await resolve(accountId, evaluatorId, v);
      const holder = await store.evaluatorRevisions.findByAlias(accountId, evaluatorId, aliasId);
      if (holder && holder.id !== revision.id) await store.evaluatorRevisions.setAliases(accountId, evaluatorId, holder.id, holder.aliases.filter((a) => a !== aliasId));
      if (!revision.aliases.includes(aliasId)) await store.evaluatorRevisions.setAliases(accountId, evaluatorId, revision.id, [...revision.aliases, aliasId]);
    },

    /** Deletes the alias when `v` is one a user set, else the revision (never the current one). */
    async delete(accountId: string, evaluatorId: string, v: string): Promise<void> {
      if ((REVISION_KEYWORDS as readonly string[]).includes(v)) throw invalidArgument(`"${v}" is kept by Tally: delete a revision by its id, or an alias you set`);
      const evaluator = await evaluatorOf(accountId, evaluatorId);
      const byId = await store.evaluatorRevisions.get(accountId, evaluatorId, v);
      if (!byId) {
        const holder = await store.evaluatorRevisions.findByAlias(accountId, evaluatorId, v);
        if (!holder) throw notFound(`revision "${v}" of evaluator "${evaluatorId}" not found`);
        return store.evaluatorRevisions.setAliases(accountId, evaluatorId, holder.id, holder.aliases.filter((a) => a !== v));
      }
      if (evaluator.currentRevisionId === v) throw failedPrecondition(`revision "${v}" is the evaluator's current one: roll back to another first`);
      // A job that recorded the revision runs it to the end (runner/job-evaluator.ts): without it, the
      // job would quietly score with another revision while it reports this one.
      const holder = (await store.jobs.listUnfinished(accountId, evaluatorId)).find((job) => job.evaluatorRevision === v);
      if (holder) throw failedPrecondition(`revision "${v}" is the one job "${holder.id}" runs (${holder.state}): delete it once the job has finished or been cancelled`);
      await store.evaluatorRevisions.delete(accountId, evaluatorId, v);
    },
  };
}

export type RevisionService = ReturnType<typeof createRevisionService>;
