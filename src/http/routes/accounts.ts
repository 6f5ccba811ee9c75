import { z } from 'zod';
import { ROLES, type Account, type ApiKeyRecord } from '../../domain/types.js';
import type { AccountService } from '../../services/accounts.js';
import { defineRoute, type AnyRouteSpec } from '../route.js';
import { listQuery, outputOnly } from '../validation.js';
import { toWireList } from '../wire/common.js';

const KEYS = '/v1/accounts/{accountId}/apiKeys';

const createKeyBody = z.strictObject({
  apiKey: z
    .strictObject({ displayName: z.string().max(256).optional(), role: z.enum(ROLES).optional(), name: outputOnly, key: outputOnly })
    .optional(),
  apiKeyId: z.string().optional(),
});

function toWireKey(record: ApiKeyRecord): Record<string, unknown> {
  return {
    name: `accounts/${record.accountId}/apiKeys/${record.id}`,
    keyId: record.id,
    displayName: record.displayName,
    role: record.role,
    prefix: record.keyPrefix,
    createTime: record.createTime,
  };
}

/** Every field the SDK's Account requires (`email`), plus those it reads when present. */
function toWireAccount(account: Account): Record<string, unknown> {
  return {
    name: `accounts/${account.id}`,
    accountId: account.id,
    displayName: account.displayName,
    email: account.email,
    createTime: account.createTime,
    updateTime: account.updateTime,
    state: 'READY',
    status: { code: 'OK', message: '' },
  };
}

/** Account introspection and key management (keys: admin role only). */
export function accountRoutes(accounts: AccountService): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'GET', path: '/verifyApiKey', operationId: 'VerifyApiKey', summary: 'Check a key; answers its account in x-fireworks-account-id', auth: 'key',
      handler: async ({ principal, reply }) => {
        reply.header('x-fireworks-account-id', principal!.accountId);
        return { accountId: principal!.accountId, role: principal!.role };
      },
    }),
    defineRoute({
      method: 'GET', path: '/v1/accounts/{accountId}', operationId: 'GetAccount', summary: 'Get the account of the key', auth: 'account',
      handler: async ({ params }) => toWireAccount(await accounts.getAccount(params['accountId']!)),
    }),
    defineRoute({
      method: 'POST', path: KEYS, operationId: 'CreateApiKey', summary: 'Create an API key (the key is shown once)', auth: 'account-admin',
      body: createKeyBody, bodyNames: ['apiKey.name', 'apiKeyId'],
      handler: async ({ params, body }) => {
        const created = await accounts.createKey(params['accountId']!, {
          keyId: body.apiKeyId, displayName: body.apiKey?.displayName, role: body.apiKey?.role ?? 'user',
        });
        return { ...toWireKey(created.record), key: created.key };
      },
    }),
    defineRoute({
      method: 'GET', path: KEYS, operationId: 'ListApiKeys', summary: 'List API keys', auth: 'account-admin', query: listQuery,
      handler: async ({ params, query }) => toWireList('apiKeys', await accounts.listKeys(params['accountId']!, query), toWireKey, query.readMask),
    }),
    defineRoute({
      method: 'GET', path: `${KEYS}/{keyId}`, operationId: 'GetApiKey', summary: 'Get an API key', auth: 'account-admin',
      handler: async ({ params }) => toWireKey(await accounts.getKey(params['accountId']!, params['keyId']!)),
    }),
    defineRoute({
      method: 'DELETE', path: `${KEYS}/{keyId}`, operationId: 'DeleteApiKey', summary: 'Revoke an API key', auth: 'account-admin',
      handler: async ({ params }) => {
        await accounts.deleteKey(params['accountId']!, params['keyId']!);
        return {};
      },
    }),
  ];
}
