import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../domain/secrets.js';
import { createSecretCipher, loadSecretKey } from './secret-cipher.js';

describe('secret cipher', () => {
  it('round-trips with a fresh nonce per value and no plaintext in the sealed form', () => {
    const cipher = createSecretCipher(randomBytes(32));
    const a = cipher.seal('hunter2-value', 'accounts/a/secrets/x');
    const b = cipher.seal('hunter2-value', 'accounts/a/secrets/x');
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(JSON.stringify(a)).not.toContain('hunter2');
    expect(cipher.open(a, 'accounts/a/secrets/x')).toBe('hunter2-value');
  });

  it('refuses another key, another resource name or altered bytes', () => {
    const cipher = createSecretCipher(randomBytes(32));
    const sealed = cipher.seal('v', 'accounts/a/secrets/x');
    expect(() => createSecretCipher(randomBytes(32)).open(sealed, 'accounts/a/secrets/x')).toThrow(/another secret key/);
    expect(() => cipher.open(sealed, 'accounts/b/secrets/x')).toThrow(/cannot decrypt/);
    expect(() => cipher.open({ ...sealed, tag: Buffer.alloc(16).toString('base64') }, 'accounts/a/secrets/x')).toThrow(/cannot decrypt/);
  });

  it('creates <dataDir>/secret.key 0600 once and reuses it; a configured key wins', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tally-key-'));
    const first = loadSecretKey({ dataDir });
    expect(first).toHaveLength(32);
    expect(statSync(join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(loadSecretKey({ dataDir }).equals(first)).toBe(true);
    expect(Buffer.from(readFileSync(join(dataDir, 'secret.key'), 'utf8').trim(), 'base64').equals(first)).toBe(true);
    const configured = randomBytes(32);
    expect(loadSecretKey({ dataDir, secretKey: configured.toString('base64') }).equals(configured)).toBe(true);
    expect(() => loadSecretKey({ dataDir, secretKey: 'c2hvcnQ=' })).toThrow(/32 bytes/);
  });

  it('redacts exact values, longest first', () => {
    // Values of 16+ characters are redacted anywhere (shorter ones only as whole tokens, under 8 never).
    const a = 'abc123abc123abc1';
    expect(redactSecrets(`a=${a} b=${a}xyz`, { A: a, B: `${a}xyz`, E: '' })).toBe('a=[redacted A] b=[redacted B]');
  });
});
