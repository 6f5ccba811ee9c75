import { describe, expect, it } from 'vitest';
import { loadConfig } from './index.js';

describe('loadConfig: TLS', () => {
  it('takes the certificate and key from flags or the environment', () => {
    const fromEnv = loadConfig({ env: { TALLY_TLS_CERT: '/c.pem', TALLY_TLS_KEY: '/k.pem' }, flags: {} });
    expect(fromEnv).toMatchObject({ tlsCert: '/c.pem', tlsKey: '/k.pem' });
    const flagsWin = loadConfig({ env: { TALLY_TLS_CERT: '/c.pem', TALLY_TLS_KEY: '/k.pem' }, flags: { tlsCert: '/f.pem', tlsKey: '/g.pem' } });
    expect(flagsWin).toMatchObject({ tlsCert: '/f.pem', tlsKey: '/g.pem' });
  });

  it('refuses a certificate without its key, and the reverse', () => {
    expect(() => loadConfig({ env: {}, flags: { tlsCert: '/c.pem' } })).toThrow('tlsCert and tlsKey go together');
    expect(() => loadConfig({ env: { TALLY_TLS_KEY: '/k.pem' }, flags: {} })).toThrow('tlsCert and tlsKey go together');
  });
});
