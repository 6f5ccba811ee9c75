import { describe, expect, it } from 'vitest';
import { redactSecrets } from './secrets.js';

describe('redactSecrets', () => {
  it('leaves values shorter than 8 characters alone, wherever they occur', () => {
    const log = 'wrote 1 inline file; DEBUG=1; done in 0.3 s';
    expect(redactSecrets(log, { DEBUG: '1', SHORT: 'e', THREE: 'ine', SEVEN: 'inline ' })).toBe(log);
  });

  it('redacts a token wherever it stands as one', () => {
    const token = 'tok_3f9a1c77';
    expect(redactSecrets(`token is ${token}`, { MY_TOKEN: token })).toBe('token is [redacted MY_TOKEN]');
    expect(redactSecrets(`Authorization: Bearer ${token}, again "${token}"`, { MY_TOKEN: token }))
      .toBe('Authorization: Bearer [redacted MY_TOKEN], again "[redacted MY_TOKEN]"');
    expect(redactSecrets(`url=https://u:${token}@host/${token}`, { MY_TOKEN: token }))
      .toBe('url=https://u:[redacted MY_TOKEN]@host/[redacted MY_TOKEN]');
  });

  it('matches a value of 8 to 15 characters as a whole token only', () => {
    expect(redactSecrets('the production build and productionize', { STAGE: 'production' }))
      .toBe('the [redacted STAGE] build and productionize');
    expect(redactSecrets('xpassword1 password1x password1', { PW: 'password1' })).toBe('xpassword1 password1x [redacted PW]');
    // A value whose edge is no word character matches next to anything on that edge.
    expect(redactSecrets('a-secret-ab', { S: '-secret-' })).toBe('a[redacted S]ab');
  });

  it('redacts a value of 16 characters or more even inside a longer word', () => {
    const long = 'sk0123456789abcdef';
    expect(redactSecrets(`x${long}y`, { KEY: long })).toBe('x[redacted KEY]y');
  });

  it('hides the longer of overlapping values whole, and never matches inside a marker', () => {
    expect(redactSecrets('abcdefgh12345678', { SHORTER: 'abcdefgh', LONGER: 'abcdefgh12345678' })).toBe('[redacted LONGER]');
    expect(redactSecrets('token abcdefgh12 and redacted', { A: 'abcdefgh12', B: 'redacted' })).toBe('token [redacted A] and [redacted B]');
  });

  it('counts characters, not UTF-16 units, and treats letters of any script as word characters', () => {
    expect(redactSecrets('ключ: пароль12', { RU: 'пароль12' })).toBe('ключ: [redacted RU]');
    expect(redactSecrets('ключ: мойпароль12', { RU: 'пароль12' })).toBe('ключ: мойпароль12');
    expect(redactSecrets('😀😀😀😀 x', { EMOJI: '😀😀😀😀' })).toBe('😀😀😀😀 x');
  });
});
