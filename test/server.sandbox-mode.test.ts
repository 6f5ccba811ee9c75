import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { startServer } from '../src/server.js';

const config = (flags: Record<string, unknown>) =>
  loadConfig({ env: {}, flags: { dataDir: mkdtempSync(join(tmpdir(), 'tally-mode-')), port: 0, envDir: join(tmpdir(), 'tally-test-envs'), ...flags } });

describe('without bubblewrap', () => {
  it('refuses to start, saying how to install it or how to run insecurely', async () => {
    await expect(startServer(config({ bwrapPath: '/nonexistent/bwrap' }))).rejects.toThrow(/bubblewrap.*--insecure-local-sandbox/s);
  });

  it('starts in the insecure-local mode only when asked, and says so at start', async () => {
    const lines: string[] = [];
    const server = await startServer(config({ bwrapPath: '/nonexistent/bwrap', sandbox: 'insecure-local' }), { log: (line) => lines.push(line) });
    try {
      expect(lines.join('\n')).toMatch(/WARNING: insecure-local sandbox/);
    } finally {
      await server.close();
    }
  });
});
