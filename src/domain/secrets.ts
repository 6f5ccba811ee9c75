import { invalidArgument } from './errors.js';
import { truncate } from './names.js';

/** An account secret as stored: the value only ever as AES-256-GCM ciphertext. */
export interface SecretRecord {
  accountId: string;
  id: string;
  keyName: string;
  /** base64 of the ciphertext, the 12-byte nonce and the 16-byte tag. */
  ciphertext: string;
  nonce: string;
  tag: string;
  createTime: string;
  updateTime: string;
}

export const KEY_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

/** Names Tally sets in the sandbox itself, or that change how the interpreter or loader behave. */
const RESERVED_NAMES = new Set(['PATH', 'HOME', 'LANG', 'LANGUAGE', 'SHELL', 'USER', 'PWD', 'TMPDIR', 'LITELLM_LOCAL_MODEL_COST_MAP']);
const RESERVED_PREFIXES = ['PYTHON', 'LC_', 'LD_', 'TALLY_'];

/** Throws INVALID_ARGUMENT naming `field` unless `keyName` may become an evaluator's env var. */
export function assertValidKeyName(keyName: string, field = 'keyName'): void {
  if (!KEY_NAME_PATTERN.test(keyName) || keyName.length > 256) {
    throw invalidArgument(`${field}: "${truncate(keyName)}" is not a valid environment variable name: use A-Z, 0-9 and '_', not starting with a digit`);
  }
  if (RESERVED_NAMES.has(keyName) || RESERVED_PREFIXES.some((p) => keyName.startsWith(p))) {
    throw invalidArgument(`${field}: "${keyName}" is reserved: Tally sets it in the sandbox itself (reserved: ${[...RESERVED_NAMES].join(', ')} and ${RESERVED_PREFIXES.map((p) => `${p}*`).join(', ')})`);
  }
}

/**
 * Replaces every exact occurrence of a secret value with `[redacted KEY]`. Longer values first,
 * so a value containing a shorter one is hidden whole.
 */
export function redactSecrets(text: string, secrets: Readonly<Record<string, string>>): string {
  const entries = Object.entries(secrets).filter(([, value]) => value !== '').sort((a, b) => b[1].length - a[1].length);
  let out = text;
  for (const [keyName, value] of entries) if (out.includes(value)) out = out.split(value).join(`[redacted ${keyName}]`);
  return out;
}
