import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError, invalidArgument, notFound, permissionDenied, unauthenticated } from '../domain/errors.js';
import { assertValidId, generateId } from '../domain/names.js';
import { nowIso, type Account, type ApiKeyRecord, type Principal, type Role } from '../domain/types.js';
import type { ListPage, ListRequest, Store } from '../store/index.js';

/** Keys look like `tly_<43 base64url chars>`: 256 random bits, recognisable in logs and scanners. */
const KEY_PREFIX = 'tly_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export interface NewKey {
  record: ApiKeyRecord;
  /** The key itself: shown once, never stored. */
  key: string;
}

export interface AccountService {
  authenticate(authorization: string | undefined): Promise<Principal>;
  authorize(principal: Principal, accountId: string, options?: { admin?: boolean }): void;
  createAccount(input: { accountId: string; displayName?: string; email?: string; apiKey?: string }): Promise<NewKey>;
  bootstrap(input: { accountId: string; email?: string; apiKey?: string }): Promise<NewKey | undefined>;
  getAccount(accountId: string): Promise<Account>;
  createKey(accountId: string, input: { keyId?: string; displayName?: string; role: Role; key?: string }): Promise<NewKey>;
  listKeys(accountId: string, request: ListRequest): Promise<ListPage<ApiKeyRecord>>;
  getKey(accountId: string, keyId: string): Promise<ApiKeyRecord>;
  deleteKey(accountId: string, keyId: string): Promise<void>;
}

export function createAccountService(store: Store): AccountService {
  const createKey: AccountService['createKey'] = async (accountId, input) => {
    const keyId = input.keyId ?? generateId();
    assertValidId(keyId, 'apiKeyId');
    const key = input.key ?? generateApiKey();
    const record: ApiKeyRecord = {
      accountId,
      id: keyId,
      displayName: input.displayName ?? keyId,
      role: input.role,
      keyHash: hashApiKey(key),
      keyPrefix: key.slice(0, KEY_PREFIX.length + 4),
      createTime: nowIso(),
    };
    await store.apiKeys.create(record);
    return { record, key };
  };

  const createAccount: AccountService['createAccount'] = async ({ accountId, displayName, email = '', apiKey }) => {
    assertValidId(accountId, 'accountId');
    assertEmail(email);
    const now = nowIso();
    await store.accounts.create({ id: accountId, displayName: displayName ?? accountId, email, createTime: now, updateTime: now });
    return createKey(accountId, { keyId: 'admin', displayName: 'admin', role: 'admin', key: apiKey });
  };

  return {
    createKey,
    createAccount,
    async authenticate(authorization) {
      const key = parseBearer(authorization);
      const hash = hashApiKey(key);
      const record = await store.apiKeys.findByHash(hash);
      // The lookup is by hash, so timing reveals nothing about the key; the explicit comparison
      // guards against a store that matched loosely (collation, trailing spaces).
      if (!record || !timingSafeEqual(Buffer.from(record.keyHash), Buffer.from(hash))) {
        throw unauthenticated('the API key is not valid');
      }
      return { accountId: record.accountId, keyId: record.id, role: record.role };
    },
    authorize(principal, accountId, { admin = false } = {}) {
      if (principal.accountId !== accountId) {
        throw permissionDenied(`the API key does not belong to account "${accountId}"`);
      }
      if (admin && principal.role !== 'admin') throw permissionDenied('this call needs an API key with the admin role');
    },
    async bootstrap({ accountId, email, apiKey }) {
      if (!(await store.accounts.get(accountId))) return createAccount({ accountId, email, apiKey });
      if (apiKey === undefined || (await store.apiKeys.findByHash(hashApiKey(apiKey)))) return undefined;
      return createKey(accountId, { keyId: `bootstrap-${generateId().slice(0, 6)}`, role: 'admin', key: apiKey });
    },
    async getAccount(accountId) {
      const account = await store.accounts.get(accountId);
      if (!account) throw notFound(`account "${accountId}" not found`);
      return account;
    },
    listKeys: (accountId, request) => store.apiKeys.list(accountId, request),
    async getKey(accountId, keyId) {
      const record = await store.apiKeys.get(accountId, keyId);
      if (!record) throw notFound(`API key "${keyId}" not found in account "${accountId}"`);
      return record;
    },
    async deleteKey(accountId, keyId) {
      if (!(await store.apiKeys.delete(accountId, keyId))) {
        throw notFound(`API key "${keyId}" not found in account "${accountId}"`);
      }
    },
  };
}

/** Loose on purpose (an address is checked by sending mail to it): one "@" between non-blank parts. */
function assertEmail(email: string): void {
  if (email !== '' && !/^[^\s@]+@[^\s@]+$/.test(email)) throw invalidArgument(`email: "${email.slice(0, 80)}" is not an email address`);
}

function parseBearer(authorization: string | undefined): string {
  if (!authorization) throw unauthenticated('missing "Authorization: Bearer <API key>" header');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) throw new ApiError({ code: 'UNAUTHENTICATED', message: 'the Authorization header must be "Bearer <API key>"' });
  return match[1];
}
