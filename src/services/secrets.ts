import { invalidArgument, notFound } from '../domain/errors.js';
import { assertValidId, resourceName } from '../domain/names.js';
import { assertValidKeyName, type SecretRecord } from '../domain/secrets.js';
import { nowIso } from '../domain/types.js';
import type { ListRequest, Store } from '../store/index.js';
import type { SecretCipher } from './secret-cipher.js';

/** Largest secret value, in UTF-8 bytes: environment variables are not a blob store. */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

/** An account's secrets as the environment of its evaluators: keyName -> plaintext value. */
export type SecretEnv = (accountId: string) => Promise<Record<string, string>>;

export function createSecretEnv(store: Store, cipher: SecretCipher): SecretEnv {
  return async (accountId) => {
    const env: Record<string, string> = {};
    for (const secret of await store.secrets.listAll(accountId)) env[secret.keyName] = cipher.open(secret, nameOf(secret));
    return env;
  };
}

const nameOf = (secret: Pick<SecretRecord, 'accountId' | 'id'>) => resourceName(secret.accountId, 'secrets', secret.id);

/**
 * Account secrets. Values go in, encrypted, and never come out through the API: only the
 * sandboxes of the account's own evaluators receive them (createSecretEnv).
 */
export function createSecretService(store: Store, cipher: SecretCipher) {
  const get = async (accountId: string, id: string): Promise<SecretRecord> => {
    const secret = await store.secrets.get(accountId, id);
    if (!secret) throw notFound(`secret "${resourceName(accountId, 'secrets', id)}" not found`);
    return secret;
  };
  return {
    get,
    list: (accountId: string, request: ListRequest) => store.secrets.list(accountId, request),
    async create(accountId: string, input: { id: string; keyName: string; value: string | undefined }): Promise<SecretRecord> {
      assertValidId(input.id, 'name');
      assertValidKeyName(input.keyName);
      if (input.value === undefined) throw invalidArgument('value: required when creating a secret');
      checkValue(input.value);
      const now = nowIso();
      const record: SecretRecord = { accountId, id: input.id, keyName: input.keyName, ...cipher.seal(input.value, nameOf({ accountId, id: input.id })), createTime: now, updateTime: now };
      await store.secrets.create(record);
      return record;
    },
    async update(accountId: string, id: string, input: { keyName?: string; value?: string }): Promise<SecretRecord> {
      if (input.keyName !== undefined) assertValidKeyName(input.keyName);
      if (input.value !== undefined) checkValue(input.value);
      const sealed = input.value === undefined ? {} : cipher.seal(input.value, nameOf({ accountId, id }));
      const updated = await store.secrets.update(accountId, id, { keyName: input.keyName, ...sealed, updateTime: nowIso() });
      if (!updated) throw notFound(`secret "${resourceName(accountId, 'secrets', id)}" not found`);
      return updated;
    },
    async delete(accountId: string, id: string): Promise<void> {
      if (!(await store.secrets.delete(accountId, id))) throw notFound(`secret "${resourceName(accountId, 'secrets', id)}" not found`);
    },
  };
}

function checkValue(value: string): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) throw invalidArgument(`value: longer than the limit of ${MAX_SECRET_VALUE_BYTES} bytes`);
  // A NUL cannot be passed in an environment variable.
  if (value.includes('\0')) throw invalidArgument('value: must not contain a NUL character');
}

export type SecretService = ReturnType<typeof createSecretService>;
