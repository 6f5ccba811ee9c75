import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { nowIso } from '../src/domain/types.js';
import { openStore } from '../src/store/index.js';
import { freshDatabaseUrl, STORE_KINDS } from './support/databases.js';
import { apiClient, startTally, until, type TallyProcess } from './support/processes.js';
import { startTestServer } from './support/server.js';

const KEY = 'tly_reclaim_test_key_0123456789';
const MIB = 1024 * 1024;

/** Bytes of the database and its WAL: what the data directory holds for the store. */
function databaseBytes(path: string): number {
  return [path, `${path}-wal`].reduce((sum, file) => {
    try {
      return sum + statSync(file).size;
    } catch {
      return sum;
    }
  }, 0);
}

function rowsOf(count: number, padding: number): string {
  return Array.from({ length: count }, (_, i) => JSON.stringify({ i, text: 'x'.repeat(padding) })).join('\n') + '\n';
}

describe('storage reclaim', () => {
  const processes: TallyProcess[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill()));
  });

  it('sweeps the row set of an upload killed by kill -9 at the next start; the file comes back near its live data', async () => {
    const url = await freshDatabaseUrl('sqlite');
    const path = url.slice('sqlite:'.length);
    const env = {
      TALLY_DATA_DIR: mkdtempSync(join(tmpdir(), 'tally-reclaim-')), TALLY_DATABASE_URL: url, TALLY_PORT: '0', TALLY_API_KEY: KEY,
      TALLY_ACCOUNT_ID: 'acme', TALLY_ENV_DIR: join(tmpdir(), 'tally-test-envs'), TALLY_IN_PROCESS_WORKER: 'false',
    };
    const serve = async () => {
      const server = await startTally(['serve'], env, /listening on (\S+)/);
      processes.push(server);
      return server;
    };
    let server = await serve();
    const call = apiClient(() => server.banner, KEY);
    const a = '/v1/accounts/acme/datasets';
    await call('POST', a, { dataset: {}, datasetId: 'live' });
    const live = new FormData();
    live.append('file', new Blob([rowsOf(5_000, 1_000)]), 'live.jsonl');
    await call('POST', `${a}/live:upload`, live);
    const liveBytes = databaseBytes(path);

    // A 200 MB upload that streams until the server is killed under it.
    await call('POST', a, { dataset: {}, datasetId: 'doomed' });
    const chunk = new TextEncoder().encode(rowsOf(1_000, 1_000));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 200) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const form = `--b\r\ncontent-disposition: form-data; name="file"; filename="doomed.jsonl"\r\ncontent-type: application/octet-stream\r\n\r\n`;
    const withHead = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode(form));
        const reader = body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          controller.enqueue(value);
        }
      },
    });
    const upload = fetch(`${server.banner}${a}/doomed:upload`, {
      method: 'POST', body: withHead, duplex: 'half', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'multipart/form-data; boundary=b' },
    } as RequestInit).catch(() => undefined);
    await until('the upload to have written 60 MB of rows', async () => (databaseBytes(path) > liveBytes + 60 * MIB ? true : undefined), 120_000);
    await server.kill('SIGKILL');
    await upload;
    const killedBytes = databaseBytes(path);
    expect(killedBytes).toBeGreaterThan(liveBytes + 60 * MIB);

    server = await serve();
    expect(server.output()).toMatch(/storage reclaim: dropped 1 orphan row set/);
    const after = databaseBytes(path);
    expect(after).toBeLessThan(liveBytes * 1.25 + 4 * MIB);
    const got = await call('GET', `${a}/live`);
    expect(got).toMatchObject({ state: 'READY', exampleCount: '5000' });
    const doomed = await call('GET', `${a}/doomed`);
    expect(doomed['state']).toBe('UPLOADING');
    console.log(`reclaim: live ${(liveBytes / MIB).toFixed(1)} MiB, after kill -9 ${(killedBytes / MIB).toFixed(1)} MiB, after restart ${(after / MIB).toFixed(1)} MiB`);
  }, 300_000);

  it('compacts a database made before incremental vacuum with one VACUUM at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-reclaim-old-'));
    const path = join(dir, 'tally.db');
    // A file whose first table predates the store: auto_vacuum stays off, as in older databases.
    const old = new BetterSqlite3(path);
    old.exec('create table legacy (a)');
    old.close();
    let store = await openStore({ url: `sqlite:${path}` });
    await store.accounts.create({ id: 'acme', displayName: 'a', createTime: nowIso(), updateTime: nowIso() });
    const set = await store.rows.createSet('acme');
    await store.rows.append(set, 0, rowsOf(40_000, 1_000).trim().split('\n'));
    expect(await store.rows.sweepOrphans(new Date(Date.now() + 1000).toISOString())).toBe(1);
    await store.close();
    const swollen = databaseBytes(path);
    expect(swollen).toBeGreaterThan(30 * MIB);

    store = await openStore({ url: `sqlite:${path}` });
    const report = await store.reclaimSpace({ full: true });
    expect(report!.fileBytesAfter).toBeLessThan(2 * MIB);
    expect(databaseBytes(path)).toBeLessThan(2 * MIB);
    await store.close();
  }, 120_000);
});

describe.each(STORE_KINDS)('orphans and expired URLs on %s', (kind) => {
  it('drops only row sets nothing uses, and expired URLs with their staged rows', async () => {
    const store = await openStore({ url: await freshDatabaseUrl(kind) });
    try {
      const now = nowIso();
      await store.accounts.create({ id: 'acme', displayName: 'a', createTime: now, updateTime: now });
      const used = await store.rows.createSet('acme');
      await store.datasets.create({
        accountId: 'acme', id: 'd', displayName: 'd', createdBy: 'k', createTime: now, updateTime: now, state: 'UPLOADING', status: { code: 'OK', message: '' },
        format: 'FORMAT_UNSPECIFIED', exampleCount: 0, averageTurnCount: 0, estimatedTokenCount: 0, origin: {}, rowSetId: null,
      });
      await store.datasets.commitRows('acme', 'd', { rowSetId: used, stats: { exampleCount: 1, format: 'FORMAT_UNSPECIFIED', averageTurnCount: 0, estimatedTokenCount: 0 }, updateTime: now });
      const orphan = await store.rows.createSet('acme');
      const staged = await store.rows.createSet('acme');
      for (const set of [used, orphan, staged]) await store.rows.append(set, 0, ['{"a":1}']);
      const url = {
        tokenHash: 'tok', accountId: 'acme', purpose: 'upload' as const, targetKind: 'dataset' as const, targetId: 'd', filename: 'a.jsonl', size: 8,
        expireTime: new Date(Date.now() + 60_000).toISOString(), usedTime: now, stagedRowSetId: null, stagedStats: null, stagedBlobId: null,
      };
      await store.signedUrls.create(url);
      await store.signedUrls.stage('tok', { rowSetId: staged, stats: { exampleCount: 1, format: 'FORMAT_UNSPECIFIED', averageTurnCount: 0, estimatedTokenCount: 0 } });
      // Not yet old enough: a row set of an upload in flight.
      expect(await store.rows.sweepOrphans(new Date(Date.now() - 60_000).toISOString())).toBe(0);
      const later = new Date(Date.now() + 1000).toISOString();
      expect(await store.rows.sweepOrphans(later)).toBe(1);
      expect(await store.rows.read(orphan, -1, 10)).toEqual([]);
      expect(await store.rows.read(used, -1, 10)).toHaveLength(1);
      expect(await store.rows.read(staged, -1, 10)).toHaveLength(1);
      // The URL expires unvalidated: it goes with its staged rows.
      expect(await store.signedUrls.deleteExpired(new Date(Date.now() + 120_000).toISOString())).toBe(1);
      expect(await store.rows.read(staged, -1, 10)).toEqual([]);
      expect(await store.rows.read(used, -1, 10)).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});

describe.each(STORE_KINDS)('staged uploads on %s', (kind) => {
  it('drops rows PUT to a signed URL when the dataset is deleted before validateUpload', async () => {
    const t = await startTestServer(kind, { inProcessWorker: false });
    try {
      const a = `/v1/accounts/${t.accountId}/datasets`;
      await t.call('POST', a, { body: { dataset: {}, datasetId: 'staged' } });
      const content = rowsOf(10, 10);
      const endpoint = await t.call('POST', `${a}/staged:getUploadEndpoint`, { body: { filenameToSize: { 'a.jsonl': String(Buffer.byteLength(content)) } } });
      const url = (endpoint.json['filenameToSignedUrls'] as Record<string, string>)['a.jsonl']!;
      expect((await t.call('PUT', url, { key: null, body: content, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(200);
      const [staged] = await t.server.store.signedUrls.listStaged(t.accountId, 'dataset', 'staged');
      const rowSetId = staged!.stagedRowSetId!;
      expect(await t.server.store.rows.read(rowSetId, -1, 100)).toHaveLength(10);
      expect((await t.call('DELETE', `${a}/staged`)).status).toBe(200);
      expect(await t.server.store.rows.read(rowSetId, -1, 100)).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
