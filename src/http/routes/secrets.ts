import { z } from 'zod';
import { invalidArgument } from '../../domain/errors.js';
import { applyReadMask } from '../../domain/listing.js';
import { isValidId, parseResourceName, resourceName } from '../../domain/names.js';
import type { SecretRecord } from '../../domain/secrets.js';
import type { SecretService } from '../../services/secrets.js';
import { defineRoute, type AnyRouteSpec } from '../route.js';
import { getQuery, listQuery, outputOnly } from '../validation.js';
import { toWireList } from '../wire/common.js';

const BASE = '/v1/accounts/{accountId}/secrets';
const ITEM = `${BASE}/{secretId}`;

const secretFields = {
  name: z.string().max(512).optional(),
  keyName: z.string().max(512).optional(),
  value: z.string().optional(),
  createTime: outputOnly,
  updateTime: outputOnly,
};

/**
 * ep upload (the fireworks SDK) sends the secret's fields at the top level, `name` being its id;
 * the AIP form wraps them in `secret` with `secretId` beside. Both are accepted.
 */
const createBody = z.strictObject({
  ...secretFields,
  secret: z.strictObject(secretFields).optional(),
  secretId: z.string().max(512).optional(),
  parent: z.string().optional(),
});
const patchBody = z.strictObject({ ...secretFields, secret: z.strictObject(secretFields).optional() });
const patchQuery = z.strictObject({ updateMask: z.string().max(1024).optional() });

/** `value` is write-only: no response ever carries it. */
function toWire(secret: SecretRecord): Record<string, unknown> {
  return { name: resourceName(secret.accountId, 'secrets', secret.id), keyName: secret.keyName, createTime: secret.createTime, updateTime: secret.updateTime };
}

type SecretFields = z.infer<z.ZodObject<typeof secretFields>>;

/** The id: `secretId`, else `name` (an id or a resource name), else derived from keyName as ep upload does. */
function idOf(accountId: string, fields: SecretFields, secretId: string | undefined): string {
  if (secretId) return parseResourceName(secretId, { accountId, collection: 'secrets', field: 'secretId' }).id;
  if (fields.name) return parseResourceName(fields.name, { accountId, collection: 'secrets', field: 'name' }).id;
  const derived = (fields.keyName ?? '').toLowerCase().replace(/_/g, '-');
  if (!isValidId(derived)) throw invalidArgument('name: required (the secret id, or accounts/{account_id}/secrets/{id})');
  return derived;
}

/** AIP-134: with an updateMask only the named fields change. */
function masked(fields: SecretFields, updateMask: string | undefined): { keyName?: string; value?: string } {
  if (!updateMask || updateMask === '*') return { keyName: fields.keyName, value: fields.value };
  const paths = new Set(updateMask.split(',').map((p) => p.trim()).filter(Boolean));
  for (const path of paths) if (path !== 'keyName' && path !== 'key_name' && path !== 'value') throw invalidArgument(`updateMask: unknown field "${path}"`);
  return {
    keyName: paths.has('keyName') || paths.has('key_name') ? fields.keyName : undefined,
    value: paths.has('value') ? fields.value : undefined,
  };
}

/** Account secrets: given to the account's evaluators as environment variables, never returned. */
export function secretRoutes(secrets: SecretService): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'POST', path: BASE, operationId: 'CreateSecret', summary: 'Create a secret (value is write-only)', auth: 'account', body: createBody, bodyNames: ['name', 'secret.name', 'secretId'],
      handler: async ({ params, body }) => {
        const accountId = params['accountId']!;
        const fields = body.secret ?? body;
        if (!fields.keyName) throw invalidArgument(`${body.secret ? 'secret.' : ''}keyName: required`);
        return toWire(await secrets.create(accountId, { id: idOf(accountId, fields, body.secretId), keyName: fields.keyName, value: fields.value }));
      },
    }),
    defineRoute({
      method: 'GET', path: BASE, operationId: 'ListSecrets', summary: 'List secrets (without values)', auth: 'account', query: listQuery,
      handler: async ({ params, query }) => toWireList('secrets', await secrets.list(params['accountId']!, query), toWire, query.readMask),
    }),
    defineRoute({
      method: 'GET', path: ITEM, operationId: 'GetSecret', summary: 'Get a secret (without its value)', auth: 'account', query: getQuery,
      handler: async ({ params, query }) => applyReadMask(toWire(await secrets.get(params['accountId']!, params['secretId']!)), query.readMask),
    }),
    defineRoute({
      method: 'PATCH', path: ITEM, operationId: 'UpdateSecret', summary: 'Change a secret\'s keyName or value', auth: 'account', body: patchBody, query: patchQuery, bodyNames: ['name', 'secret.name'],
      handler: async ({ params, body, query }) =>
        toWire(await secrets.update(params['accountId']!, params['secretId']!, masked(body.secret ?? body, query.updateMask))),
    }),
    defineRoute({
      method: 'DELETE', path: ITEM, operationId: 'DeleteSecret', summary: 'Delete a secret', auth: 'account',
      handler: async ({ params }) => {
        await secrets.delete(params['accountId']!, params['secretId']!);
        return {};
      },
    }),
  ];
}
