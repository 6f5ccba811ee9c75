import { z } from 'zod';
import type { EvaluatorRecord, EvaluatorRevision } from '../../domain/evaluators.js';
import { applyReadMask } from '../../domain/listing.js';
import type { RevisionService } from '../../services/evaluator-revisions.js';
import { defineRoute, type AnyRouteSpec } from '../route.js';
import { getQuery, listQuery } from '../validation.js';
import { toWireList } from '../wire/common.js';
import { toWireEvaluator } from '../wire/evaluators.js';

const BASE = '/v1/accounts/{accountId}/evaluators/{evaluatorId}/versions';
const ITEM = `${BASE}/{versionId}`;

const aliasBody = z.strictObject({ aliasId: z.string({ error: 'aliasId is required' }).max(63), name: z.string().optional() });
const rollbackBody = z.strictObject({ name: z.string().optional() });

/** A revision on the wire: `{name, snapshot, createTime, alternateIds}` plus the fields the hosted EvaluatorVersion carries. */
function toWireRevision(revision: EvaluatorRevision, evaluator: EvaluatorRecord, latestId: string): Record<string, unknown> {
  const { snapshot } = revision;
  const alternateIds = [...(revision.id === latestId ? ['latest'] : []), ...(revision.id === evaluator.currentRevisionId ? ['current'] : []), ...revision.aliases];
  return {
    name: `accounts/${revision.accountId}/evaluators/${revision.evaluatorId}/versions/${revision.id}`,
    snapshot: toWireEvaluator(snapshot),
    createTime: revision.createTime,
    alternateIds,
    state: snapshot.state,
    status: snapshot.status,
    commitHash: snapshot.spec.commitHash,
    entryPoint: snapshot.spec.entryPoint,
    requirements: snapshot.spec.requirements,
  };
}

/** Evaluator revisions (reference §2.12): list, get, delete, :alias, :rollback. */
export function evaluatorRevisionRoutes(revisions: RevisionService): AnyRouteSpec[] {
  const wireOf = async (accountId: string, evaluatorId: string, v: string) => {
    const { revision, evaluator } = await revisions.resolve(accountId, evaluatorId, v);
    return toWireRevision(revision, evaluator, await revisions.latestId(accountId, evaluatorId));
  };
  return [
    defineRoute({
      method: 'GET', path: BASE, operationId: 'ListEvaluatorVersions', summary: 'List an evaluator\'s revisions, newest first', auth: 'account', query: listQuery,
      handler: async ({ params, query }) => {
        const { page, evaluator, latestId } = await revisions.list(params['accountId']!, params['evaluatorId']!, query);
        return toWireList('evaluatorVersions', page, (r) => toWireRevision(r, evaluator, latestId), query.readMask);
      },
    }),
    defineRoute({
      method: 'GET', path: ITEM, operationId: 'GetEvaluatorVersion', summary: 'Get a revision by id or alias (latest, current, or one set)', auth: 'account', query: getQuery,
      handler: async ({ params, query }) => applyReadMask(await wireOf(params['accountId']!, params['evaluatorId']!, params['versionId']!), query.readMask),
    }),
    defineRoute({
      method: 'DELETE', path: ITEM, operationId: 'DeleteEvaluatorVersion', summary: 'Delete a revision, or the alias when the id is one', auth: 'account',
      handler: async ({ params }) => {
        await revisions.delete(params['accountId']!, params['evaluatorId']!, params['versionId']!);
        return {};
      },
    }),
    defineRoute({
      method: 'POST', path: `${ITEM}:alias`, operationId: 'AliasEvaluatorVersion', summary: 'Give a revision an alias (moved from any other revision)', auth: 'account', body: aliasBody, bodyNames: ['name'],
      handler: async ({ params, body }) => {
        await revisions.alias(params['accountId']!, params['evaluatorId']!, params['versionId']!, body.aliasId);
        return wireOf(params['accountId']!, params['evaluatorId']!, params['versionId']!);
      },
    }),
    defineRoute({
      method: 'POST', path: `${ITEM}:rollback`, operationId: 'RollbackEvaluatorVersion', summary: 'Make a revision the evaluator again (no rebuild while its build is kept)', auth: 'account', body: rollbackBody, bodyNames: ['name'],
      handler: async ({ params }) => {
        const evaluator = await revisions.rollback(params['accountId']!, params['evaluatorId']!, params['versionId']!);
        return toWireEvaluator(evaluator);
      },
    }),
  ];
}
