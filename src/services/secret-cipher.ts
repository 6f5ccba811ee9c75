import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a secret value becomes at rest: no part of it reveals the value without the key. */
export interface SealedValue {
  ciphertext: string;
  nonce: string;
  tag: string;
}

export interface SecretCipher {
  /** `context` (the secret's resource name) is authenticated: a sealed value moved to another row will not open. */
  seal(value: string, context: string): SealedValue;
  open(sealed: SealedValue, context: string): string;
}

const KEY_BYTES = 32;
const NONCE_BYTES = 12;

/** AES-256-GCM with a fresh random 12-byte nonce per value. */
export function createSecretCipher(key: Buffer): SecretCipher {
  if (key.length !== KEY_BYTES) throw new Error(`the secret key must be ${KEY_BYTES} bytes, got ${key.length}`);
  return {
    seal(value, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
      return { ciphertext: ciphertext.toString('base64'), nonce: nonce.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
    },
    open(sealed, context) {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.nonce, 'base64'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString('utf8');
      } catch {
        // GCM fails only on a wrong key or altered bytes; with several servers, the usual cause is a different key.
        throw new Error(`cannot decrypt secret ${context}: it was encrypted with another secret key (every server and worker sharing a database needs the same TALLY_SECRET_KEY)`);
      }
    },
  };
}

/** Decodes a configured key: 32 bytes, base64. */
export function parseSecretKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`secretKey: expected ${KEY_BYTES} bytes in base64 (e.g. from "openssl rand -base64 32"), got ${key.length} bytes`);
  return key;
}

/**
 * The configured key, else `<dataDir>/secret.key`, created (0600, exclusively) on first start.
 * A key file serves one host only: servers sharing a PostgreSQL database must all be given the
 * same configured key.
 */
export function loadSecretKey({ secretKey, dataDir }: { secretKey?: string; dataDir: string }): Buffer {
  if (secretKey) return parseSecretKey(secretKey);
  const path = join(dataDir, 'secret.key');
  // Written aside then linked into place: a process starting alongside never reads a half-written key.
  const staging = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(staging, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(staging, path);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(staging);
  }
  return parseSecretKey(readFileSync(path, 'utf8'));
}
