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
 * Values shorter than this are never redacted: they cannot be secret-like (`.env` files give
 * `DEBUG=1` and `e`), and replacing them garbles every log and shows where the value was.
 */
export const MIN_REDACTED_LENGTH = 8;
/** From this length a value is redacted inside longer words too: it does not occur by chance. */
export const ANYWHERE_REDACTED_LENGTH = 16;

const WORD_CHAR = /[\p{L}\p{N}_]/u;

interface Match {
  start: number;
  end: number;
  keyName: string;
}

/**
 * Replaces the secret-like values (see docs/security.md, "Logs") with `[redacted KEY]`:
 * values of MIN_REDACTED_LENGTH or more characters; shorter than ANYWHERE_REDACTED_LENGTH, only
 * as whole tokens (not inside a longer run of letters, digits and `_`). One pass over the text:
 * where matches overlap the longer one wins, and a marker is never matched again.
 */
export function redactSecrets(text: string, secrets: Readonly<Record<string, string>>): string {
  const matches = Object.entries(secrets)
    .filter(([, value]) => [...value].length >= MIN_REDACTED_LENGTH)
    .flatMap(([keyName, value]) => occurrences(text, value, keyName));
  if (matches.length === 0) return text;
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const match of matches) {
    if (match.start < at) continue;
    out += `${text.slice(at, match.start)}[redacted ${match.keyName}]`;
    at = match.end;
  }
  return out + text.slice(at);
}

function occurrences(text: string, value: string, keyName: string): Match[] {
  const found: Match[] = [];
  const wholeTokenOnly = [...value].length < ANYWHERE_REDACTED_LENGTH;
  for (let start = text.indexOf(value); start !== -1; start = text.indexOf(value, start + 1)) {
    const end = start + value.length;
    if (!wholeTokenOnly || isWholeToken(text, start, end)) found.push({ start, end, keyName });
  }
  return found;
}

/** True unless the match continues a word: a word character on both sides of an edge. */
function isWholeToken(text: string, start: number, end: number): boolean {
  const joins = (left: string | undefined, right: string | undefined) =>
    left !== undefined && right !== undefined && WORD_CHAR.test(left) && WORD_CHAR.test(right);
  const before = [...text.slice(Math.max(0, start - 2), start)].at(-1);
  const first = String.fromCodePoint(text.codePointAt(start) ?? 0);
  const last = [...text.slice(Math.max(start, end - 2), end)].at(-1);
  const after = end < text.length ? String.fromCodePoint(text.codePointAt(end) ?? 0) : undefined;
  return !joins(before, first) && !joins(last, after);
}
