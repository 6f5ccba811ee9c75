import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EvaluatorRecord } from '../src/domain/evaluators.js';
import { DEFAULT_JOB_SETTINGS, type ChunkLease, type JobRecord, type RowResult } from '../src/domain/jobs.js';
import { outputRowText, type OutputRow } from '../src/domain/output-rows.js';
import { nowIso, type DatasetRecord } from '../src/domain/types.js';
import { openStore, type Store } from '../src/store/index.js';
import { execSql, freshDatabaseUrl, STORE_KINDS } from './support/databases.js';

/** One suite, every backend: the Store port must behave the same on SQLite and PostgreSQL. */
describe.each(STORE_KINDS)('Store conformance on %s', (kind) => {
  let store: Store;
  let url: string;

  beforeEach(async () => {
    url = await freshDatabaseUrl(kind);
    store = await openStore({ url });
    const now = nowIso();
    await store.accounts.create({ id: 'acme', displayName: 'Acme', createTime: now, updateTime: now });
  });
  afterEach(async () => {
    await store.close();
  });

  const dataset = (id: string, overrides: Partial<DatasetRecord> = {}): DatasetRecord => ({
    accountId: 'acme',
    id,
    displayName: id,
    createdBy: 'admin',
    createTime: nowIso(),
    updateTime: nowIso(),
    state: 'UPLOADING',
    status: { code: 'OK', message: '' },
    format: 'FORMAT_UNSPECIFIED',
    exampleCount: 0,
    averageTurnCount: 0,
    estimatedTokenCount: 0,
    origin: { evalProtocol: {} },
    rowSetId: null,
    ...overrides,
  });

  /** A job whose input and output rows are one row set: the store does not mind. */
  const jobRecord = (id: string, rowSetId: number, rowsTotal: number): JobRecord => {
    const now = nowIso();
    return {
      accountId: 'acme', id, displayName: id, createdBy: 'admin', createTime: now, updateTime: now, state: 'JOB_STATE_PENDING',
      status: { code: 'OK', message: '' }, evaluatorId: 'e', inputDatasetId: 'in', outputDatasetId: 'out', inputRowSetId: rowSetId, outputRowSetId: rowSetId,
      settings: DEFAULT_JOB_SETTINGS, progress: { rowsTotal, rowsDone: 0, rowsErrored: 0, startTime: '', endTime: '' },
      metrics: {}, outputStats: '', leaderboardIds: [],
    };
  };

  it('reopens an existing database without re-running migrations', async () => {
    const url = await freshDatabaseUrl(kind);
    const first = await openStore({ url });
    await first.accounts.create({ id: 'keep', displayName: 'k', createTime: nowIso(), updateTime: nowIso() });
    await first.close();
    const second = await openStore({ url });
    expect((await second.accounts.get('keep'))?.displayName).toBe('k');
    await second.close();
  });

  it('refuses duplicate accounts, keys and datasets with ALREADY_EXISTS', async () => {
    await expect(store.accounts.create({ id: 'acme', displayName: 'x', createTime: nowIso(), updateTime: nowIso() })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await store.datasets.create(dataset('d'));
    await expect(store.datasets.create(dataset('d'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const key = { accountId: 'acme', id: 'k', displayName: 'k', role: 'user' as const, keyHash: 'h1', keyPrefix: 'p', createTime: nowIso() };
    await store.apiKeys.create(key);
    await expect(store.apiKeys.create({ ...key, id: 'k2' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    expect((await store.apiKeys.findByHash('h1'))?.id).toBe('k');
    expect(await store.apiKeys.delete('acme', 'k')).toBe(true);
    expect(await store.apiKeys.delete('acme', 'k')).toBe(false);
  });

  it('round-trips a dataset record and patches it', async () => {
    const record = dataset('round', { exampleCount: 12, averageTurnCount: 2.5, estimatedTokenCount: 9_000_000_000 });
    await store.datasets.create(record);
    expect(await store.datasets.get('acme', 'round')).toEqual(record);
    const patched = await store.datasets.update('acme', 'round', {
      displayName: 'new',
      status: { code: 'INVALID_ARGUMENT', message: 'line 2: bad' },
      updateTime: nowIso(),
    });
    expect(patched).toMatchObject({ displayName: 'new', status: { code: 'INVALID_ARGUMENT', message: 'line 2: bad' }, exampleCount: 12 });
    expect(await store.datasets.get('other', 'round')).toBeUndefined();
  });

  it('keeps the files registered for a dataset upload in order, replaced by each registration', async () => {
    await store.datasets.create(dataset('files'));
    expect(await store.datasets.getUploadFiles('acme', 'files')).toEqual([]);
    await store.datasets.setUploadFiles('acme', 'files', ['b.jsonl', 'a.jsonl', 'c.jsonl']);
    expect(await store.datasets.getUploadFiles('acme', 'files')).toEqual(['b.jsonl', 'a.jsonl', 'c.jsonl']);
    await store.datasets.setUploadFiles('acme', 'files', ['z.jsonl']);
    expect(await store.datasets.getUploadFiles('acme', 'files')).toEqual(['z.jsonl']);
    expect(await store.datasets.getUploadFiles('other', 'files')).toEqual([]);
    expect(await store.datasets.get('acme', 'files')).toEqual(dataset('files', { createTime: expect.any(String), updateTime: expect.any(String) }));
  });

  it('appends rows and reads them back in index order, page by page', async () => {
    const set = await store.rows.createSet('acme');
    const texts = Array.from({ length: 2345 }, (_, i) => JSON.stringify({ i, s: 'é"\n' }));
    await store.rows.append(set, 0, texts.slice(0, 1500));
    await store.rows.append(set, 1500, texts.slice(1500));
    const read: string[] = [];
    let after = -1;
    for (;;) {
      const page = await store.rows.read(set, after, 1000);
      if (page.length === 0) break;
      read.push(...page.map((r) => r.data));
      after = page[page.length - 1]!.idx;
    }
    expect(read).toEqual(texts);
  });

  it('swaps row sets atomically and drops the one replaced', async () => {
    await store.datasets.create(dataset('swap'));
    const stats = { exampleCount: 1, format: 'CHAT' as const, averageTurnCount: 2, estimatedTokenCount: 5 };
    const first = await store.rows.createSet('acme');
    await store.rows.append(first, 0, ['{"a":1}']);
    const committed = await store.datasets.commitRows('acme', 'swap', { rowSetId: first, stats, updateTime: nowIso() });
    expect(committed).toMatchObject({ state: 'READY', rowSetId: first, exampleCount: 1, format: 'CHAT' });

    const second = await store.rows.createSet('acme');
    await store.rows.append(second, 0, ['{"b":1}', '{"b":2}']);
    await store.datasets.commitRows('acme', 'swap', { rowSetId: second, stats: { ...stats, exampleCount: 2 }, updateTime: nowIso() });
    expect(await store.rows.read(first, -1, 10)).toEqual([]);
    expect((await store.rows.read(second, -1, 10)).map((r) => r.data)).toEqual(['{"b":1}', '{"b":2}']);
    expect(await store.datasets.commitRows('acme', 'ghost', { rowSetId: second, stats, updateTime: nowIso() })).toBeUndefined();

    expect(await store.datasets.delete('acme', 'swap')).toBe(true);
    expect(await store.rows.read(second, -1, 10)).toEqual([]);
  });

  it('writes chunks of output rows exactly once and reads them back in order, by index and after a delete', async () => {
    // The output derives from the job's input: its rows are the input rows with what the job added.
    const input = await store.rows.createSet('acme');
    await store.rows.append(input, 0, Array.from({ length: 7 }, (_, idx) => `{"in":${idx}}`));
    const output = await store.rows.createSet('acme', { base: input });
    const job = { ...jobRecord('j', output, 7), inputRowSetId: input };
    await store.jobs.create(job, { runnable: true, ranges: [[0, 3], [3, 6], [6, 7]] });
    const text = (idx: number) => JSON.stringify({ idx, s: `é😀"\\u2028${'x'.repeat(idx)}` });
    // Chunk 1's rows come as the runner hands most of them over: the input row and the parts to splice in.
    const outputRow = (idx: number): OutputRow =>
      idx === 4 || idx < 3 || idx > 5 ? { idx, text: text(idx) } : { idx, input: `{"in":${idx}}`, evaluation: `{"score":${idx / 10}}`, score: String(idx / 10) };
    const stored = (idx: number) => outputRowText(outputRow(idx));
    const result = (idx: number): RowResult => ({ idx, score: idx / 10, isScoreValid: idx !== 4, errorKind: idx === 4 ? 'crash' : '', ms: 1, metrics: { m: idx } });
    const lease = async () => (await store.jobs.leaseChunk({ owner: 'w', now: nowIso(), expireTime: new Date(Date.now() + 60_000).toISOString(), accountLimit: 0 }))!;
    const written: number[] = [];
    for (let chunk = 0; chunk < 3; chunk++) {
      const held = await lease();
      const idxs = Array.from({ length: held.end - held.start }, (_, i) => held.start + i);
      const completion = { outputRowSetId: output, rows: idxs.map(outputRow), results: idxs.map(result), now: nowIso() };
      expect(await store.jobs.completeChunk(held, completion)).toMatchObject({ remainingChunks: 2 - chunk });
      // A second write of the same chunk (a worker whose lease was taken over) writes nothing.
      expect(await store.jobs.completeChunk(held, completion)).toBeUndefined();
      written.push(...idxs);
    }
    const all = Array.from({ length: 7 }, (_, i) => ({ idx: i, data: stored(i) }));
    expect(all[3]!.data).toBe('{"in":3,"evaluation_result":{"score":0.3},"evals":{"score":0.3},"eval_details":{"score":0.3}}');
    expect(await store.rows.read(output, -1, 100)).toEqual(all);
    expect(await store.rows.read(output, 1, 3)).toEqual(all.slice(2, 5));
    expect(await store.rows.read(output, 6, 3)).toEqual([]);
    // By index, in any order, across blocks; indexes past the end are left out.
    expect(await store.rows.readAt(output, [5, 0, 3, 9])).toEqual(new Map([5, 0, 3].map((i) => [i, stored(i)])));
    expect(await store.rows.readAt(output, [])).toEqual(new Map());
    const results = await store.jobs.readResults(output, -1, 100);
    expect(results.map((r) => r.idx)).toEqual(written);
    expect(results).toEqual(written.map(result));
    const byChunk = await store.jobs.readChunkResults(job, -1, 2);
    // A chunk's index is where it starts: the next page is the chunks after it.
    expect(byChunk.map((c) => [c.index, c.results.map((r) => r.idx)])).toEqual([[0, [0, 1, 2]], [3, [3, 4, 5]]]);
    expect((await store.jobs.readChunkResults(job, 3, 10)).flatMap((c) => c.results)).toEqual([result(6)]);
    // A chunk done before chunks kept their results (an older database) is read from its rows.
    await execSql(url, "update job_chunks set results = '' where idx = 1");
    expect((await store.jobs.readChunkResults(job, -1, 10)).flatMap((c) => c.results)).toEqual(written.map(result));
    const worst = await store.jobs.listResults(output, { orderBy: 'score', pageSize: 3, filter: 'errorKind = ""' });
    expect(worst.items.map((r) => [r.idx, r.data])).toEqual([0, 1, 2].map((i) => [i, stored(i)]));
    const best = await store.jobs.listResults(output, { orderBy: 'score desc', pageSize: 2 });
    expect(best.items.map((r) => [r.idx, r.data])).toEqual([6, 5].map((i) => [i, stored(i)]));
    const errored = await store.jobs.listResults(output, { filter: 'errorKind = "crash"' });
    expect(errored.items.map((r) => [r.idx, r.data])).toEqual([[4, stored(4)]]);
    // The input rows stay while the output derives from them (the job is over), and go with it.
    await store.jobs.update('acme', 'j', { state: 'JOB_STATE_COMPLETED', updateTime: nowIso() });
    expect(await store.rows.deleteSetIfUnused(input)).toBe(false);
    await store.rows.deleteSet(input);
    expect(await store.rows.read(output, -1, 100)).toEqual(all);
    await store.rows.deleteSet(output);
    expect(await store.rows.read(output, -1, 100)).toEqual([]);
    expect(await store.rows.read(input, -1, 100)).toEqual([]);
  });

  it('keeps evaluator revisions: newest first, found by id or alias, deleted one by one or with the evaluator', async () => {
    const now = nowIso();
    const snapshot = (generation: number, sourceBlobId: string | null): EvaluatorRecord => ({
      accountId: 'acme', id: 'ev', flavour: 'v2', displayName: 'ev', description: '', createdBy: 'admin', createTime: now, updateTime: now,
      state: 'ACTIVE', status: { code: 'OK', message: '' }, spec: { criteria: [], requirements: '', entryPoint: 'a.py::f', commitHash: '', defaultDataset: '' },
      sourceBlobId, sourceFilename: 'a.tar.gz', buildGeneration: generation, buildRequestTime: '', buildLogBlobId: null, buildDir: `/b/${generation}`, envHash: 'h', mode: 'pointwise',
      currentRevisionId: `v${generation}`,
    });
    const revisions = store.evaluatorRevisions;
    for (const generation of [1, 2, 10]) {
      await revisions.create({ accountId: 'acme', evaluatorId: 'ev', id: `v${generation}`, seq: generation, createTime: new Date(Date.now() + generation).toISOString(), snapshot: snapshot(generation, generation === 10 ? 'blob-b' : 'blob-a'), aliases: [] });
    }
    await expect(revisions.create({ accountId: 'acme', evaluatorId: 'ev', id: 'v1', seq: 1, createTime: now, snapshot: snapshot(1, null), aliases: [] })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // Newest first by build generation (v10 after v2, whatever the text order).
    expect((await revisions.list('acme', 'ev', {})).items.map((r) => r.id)).toEqual(['v10', 'v2', 'v1']);
    expect((await revisions.list('acme', 'ev', { pageSize: 1, orderBy: 'seq' })).items.map((r) => r.id)).toEqual(['v1']);
    expect((await revisions.latest('acme', 'ev'))?.id).toBe('v10');
    expect((await revisions.get('acme', 'ev', 'v2'))?.snapshot).toEqual(snapshot(2, 'blob-a'));
    await revisions.setAliases('acme', 'ev', 'v2', ['stable', 'prod']);
    expect((await revisions.findByAlias('acme', 'ev', 'prod'))?.id).toBe('v2');
    expect(await revisions.findByAlias('acme', 'ev', 'none')).toBeUndefined();
    expect(await revisions.findByAlias('acme', 'other-ev', 'prod')).toBeUndefined();
    expect(await revisions.delete('acme', 'ev', 'v1')).toBe(true);
    expect(await revisions.delete('acme', 'ev', 'v1')).toBe(false);
    expect((await revisions.deleteForEvaluator('acme', 'ev')).sort()).toEqual(['blob-a', 'blob-b']);
    expect((await revisions.list('acme', 'ev', {})).totalSize).toBe(0);
  });

  it('cuts a leased chunk to fit: the rest is a pending chunk of its own, results read back in row order', async () => {
    const input = await store.rows.createSet('acme');
    await store.rows.append(input, 0, Array.from({ length: 10 }, (_, idx) => `{"in":${idx}}`));
    const output = await store.rows.createSet('acme', { base: input });
    const job = { ...jobRecord('cut', output, 10), inputRowSetId: input };
    await store.jobs.create(job, { runnable: true, ranges: [[0, 6], [6, 10]] });
    const lease = async () => (await store.jobs.leaseChunk({ owner: 'w', now: nowIso(), expireTime: new Date(Date.now() + 60_000).toISOString(), accountLimit: 0 }))!;
    const result = (idx: number): RowResult => ({ idx, score: idx, isScoreValid: true, errorKind: '', ms: 1, metrics: {} });
    const complete = (held: ChunkLease) => {
      const idxs = Array.from({ length: held.end - held.start }, (_, i) => held.start + i);
      return store.jobs.completeChunk(held, { outputRowSetId: output, rows: idxs.map((idx) => ({ idx, text: `{"out":${idx}}` })), results: idxs.map(result), now: nowIso() });
    };
    const first = await lease();
    expect(first).toMatchObject({ start: 0, end: 6 });
    const cut = (await store.jobs.shrinkLease(first, 2))!;
    expect(cut).toMatchObject({ index: first.index, start: 0, end: 2 });
    expect(await store.jobs.countChunks('acme', 'cut')).toEqual({ pending: 2, leased: 1, done: 0 });
    // A lease that no longer holds (or was cut already) cuts nothing.
    expect(await store.jobs.shrinkLease({ ...first, owner: 'other' }, 1)).toBeUndefined();
    expect(await store.jobs.shrinkLease(first, 1)).toBeUndefined();
    expect(await complete(cut)).toMatchObject({ remainingChunks: 2 });
    const leased = [await lease(), await lease()];
    expect(leased.map((l) => [l.start, l.end])).toEqual([[6, 10], [2, 6]]);
    for (const held of leased.reverse()) await complete(held);
    expect(await store.jobs.countChunks('acme', 'cut')).toEqual({ pending: 0, leased: 0, done: 3 });
    const chunks = await store.jobs.readChunkResults(job, -1, 10);
    expect(chunks.map((c) => c.results.map((r) => r.idx))).toEqual([[0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]);
    expect((await store.jobs.readChunkResults(job, chunks[0]!.index, 1)).map((c) => c.index)).toEqual([2]);
  });

  it('cuts many chunks of one job at once (every slot starting it): each cut holds, each rest a chunk of its own', async () => {
    const input = await store.rows.createSet('acme');
    await store.rows.append(input, 0, Array.from({ length: 80 }, (_, idx) => `{"in":${idx}}`));
    const job = { ...jobRecord('cuts', input, 80), inputRowSetId: input };
    const ranges = Array.from({ length: 8 }, (_, i): [number, number] => [i * 10, i * 10 + 10]);
    await store.jobs.create(job, { runnable: true, ranges });
    const leases: ChunkLease[] = [];
    for (let i = 0; i < 8; i++) leases.push((await store.jobs.leaseChunk({ owner: `w${i}`, now: nowIso(), expireTime: new Date(Date.now() + 60_000).toISOString(), accountLimit: 0 }))!);
    const cuts = await Promise.all(leases.map((held) => store.jobs.shrinkLease(held, held.start + 3)));
    expect(cuts.map((cut) => cut && [cut.start, cut.end])).toEqual(leases.map((held) => [held.start, held.start + 3]));
    expect(await store.jobs.countChunks('acme', 'cuts')).toEqual({ pending: 8, leased: 8, done: 0 });
  });

  it('records a job scored elsewhere: done chunks with their results, read back like any job\'s', async () => {
    const rows = await store.rows.createSet('acme');
    await store.rows.append(rows, 0, Array.from({ length: 5 }, (_, idx) => `{"in":${idx}}`));
    const job = { ...jobRecord('recorded', rows, 5), state: 'JOB_STATE_COMPLETED' as const };
    const results: RowResult[] = Array.from({ length: 5 }, (_, idx) => ({ idx, score: idx / 4, isScoreValid: idx !== 3, errorKind: '', ms: 0, metrics: { m: idx } }));
    await store.jobs.create(job, { runnable: false, ranges: [[0, 3], [3, 5]], results });
    expect(await store.jobs.countChunks('acme', 'recorded')).toEqual({ pending: 0, leased: 0, done: 2 });
    expect((await store.jobs.readChunkResults(job, -1, 10)).map((c) => c.results)).toEqual([results.slice(0, 3), results.slice(3)]);
    const page = await store.jobs.listResults(rows, { orderBy: 'index' });
    expect(page.items.map(({ data: _, ...r }) => r)).toEqual(results);
    expect(await store.jobs.leaseChunk({ owner: 'w', now: nowIso(), expireTime: new Date(Date.now() + 60_000).toISOString(), accountLimit: 0 })).toBeUndefined();
  });

  it('releases a leased chunk for any worker to take at once, long before its lease would expire', async () => {
    const output = await store.rows.createSet('acme');
    await store.jobs.create(jobRecord('released', output, 2), { runnable: true, ranges: [[0, 2]] });
    const leaseAs = (owner: string) => store.jobs.leaseChunk({ owner, now: nowIso(), expireTime: new Date(Date.now() + 600_000).toISOString(), accountLimit: 0 });
    const first = (await leaseAs('stopping'))!;
    expect(first).toMatchObject({ jobId: 'released', index: 0, owner: 'stopping' });
    expect(await leaseAs('other')).toBeUndefined();
    // Only the owner's release counts: another worker cannot free a chunk it does not hold.
    await store.jobs.releaseChunk({ ...first, owner: 'other' });
    expect(await leaseAs('other')).toBeUndefined();
    await store.jobs.releaseChunk(first);
    expect(await store.jobs.countChunks('acme', 'released')).toEqual({ pending: 1, leased: 0, done: 0 });
    const second = (await leaseAs('next'))!;
    expect(second).toMatchObject({ index: 0, owner: 'next' });
    const results: RowResult[] = [0, 1].map((idx) => ({ idx, score: 1, isScoreValid: true, errorKind: '', ms: 1, metrics: {} }));
    const completion = { outputRowSetId: output, rows: [0, 1].map((idx): OutputRow => ({ idx, text: `{"r":${idx}}` })), results, now: nowIso() };
    // The released lease writes nothing; the new owner writes the chunk, once.
    expect(await store.jobs.completeChunk(first, completion)).toBeUndefined();
    expect(await store.jobs.completeChunk(second, completion)).toMatchObject({ remainingChunks: 0 });
    expect(await store.jobs.readResults(output, -1, 10)).toEqual(results);
  });

  it('writes output rows whose indexes are not consecutive one by one, and reads them back', async () => {
    const output = await store.rows.createSet('acme');
    const job = jobRecord('gaps', output, 4);
    await store.jobs.create(job, { runnable: true, ranges: [[0, 4]] });
    const lease = (await store.jobs.leaseChunk({ owner: 'w', now: nowIso(), expireTime: new Date(Date.now() + 60_000).toISOString(), accountLimit: 0 }))!;
    const rows: OutputRow[] = [{ idx: 0, text: '{"a":0}' }, { idx: 2, input: '{"a":2}', evaluation: '{"score":1}', score: '1' }, { idx: 3, text: '{"a":3}' }];
    const results = rows.map((r): RowResult => ({ idx: r.idx, score: 1, isScoreValid: true, errorKind: '', ms: 1, metrics: {} }));
    expect(await store.jobs.completeChunk(lease, { outputRowSetId: output, rows, results, now: nowIso() })).toMatchObject({ remainingChunks: 0 });
    const expected = rows.map((r) => ({ idx: r.idx, data: outputRowText(r) }));
    expect(await store.rows.read(output, -1, 10)).toEqual(expected);
    expect((await store.jobs.listResults(output, { orderBy: 'index desc', pageSize: 2 })).items.map((r) => r.data)).toEqual([expected[2]!.data, expected[1]!.data]);
  });

  it('writes score cache entries with their chunk, per account, marks hits used and evicts the least recently used', async () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    await store.accounts.create({ id: 'other', displayName: 'Other', createTime: nowIso(), updateTime: nowIso() });
    const set = await store.rows.createSet('acme');
    await store.jobs.create(jobRecord('cached', set, 4), { runnable: true, ranges: [[0, 1], [1, 2], [2, 3], [3, 4]] });
    const complete = async (accountId: string, jobId: string, now: string, scoreCache: NonNullable<Parameters<Store['jobs']['completeChunk']>[1]['scoreCache']>) => {
      const lease = (await store.jobs.leaseChunk({ owner: 'w', now: nowIso(), expireTime: new Date(Date.now() + 60_000).toISOString(), accountLimit: 0 }))!;
      expect(lease).toMatchObject({ accountId, jobId });
      const row = { idx: lease.start, text: '{}' };
      const result: RowResult = { idx: lease.start, score: 1, isScoreValid: true, errorKind: '', ms: 0, metrics: {} };
      const output = (await store.jobs.get(accountId, jobId))!.outputRowSetId;
      expect(await store.jobs.completeChunk(lease, { outputRowSetId: output, rows: [row], results: [result], now, scoreCache })).toBeDefined();
    };
    await complete('acme', 'cached', at(1), { entries: [{ key: 'k1', result: 'r1' }, { key: 'k2', result: 'r2' }, { key: 'k3', result: 'r3' }], hitKeys: [], hits: 0 });
    const results = async (accountId: string, keys: string[]) => new Map([...(await store.scoreCache.lookup(accountId, keys))].map(([k, v]) => [k, v.result]));
    expect(await store.scoreCache.lookup('acme', ['k1', 'k3', 'nope'])).toEqual(new Map([['k1', { result: 'r1', usedTime: at(1) }], ['k3', { result: 'r3', usedTime: at(1) }]]));
    // One account's entry never answers another's lookup, even under the same key.
    expect(await results('other', ['k1', 'k2'])).toEqual(new Map());
    // A later chunk replaces an entry, marks its hits used and counts them on the job.
    await complete('acme', 'cached', at(3), { entries: [{ key: 'k3', result: 'r3b' }, { key: 'k4', result: 'r4' }], hitKeys: ['k1'], hits: 2 });
    expect(await store.scoreCache.count('acme')).toBe(4);
    expect((await store.scoreCache.lookup('acme', ['k1']).then((m) => m.get('k1')))!.usedTime).toBe(at(3));
    expect((await store.jobs.get('acme', 'cached'))!.progress.rowsCached).toBe(2);
    // k2 was used last at 1 (k1, k3 and k4 at 3): it goes first.
    await complete('acme', 'cached', at(4), { entries: [], hitKeys: [], hits: 0, evictBeyond: 3 });
    expect([...(await store.scoreCache.lookup('acme', ['k1', 'k2', 'k3', 'k4'])).keys()].sort()).toEqual(['k1', 'k3', 'k4']);
    // Entries used at one time are ordered by key, so a bound is met exactly.
    await complete('acme', 'cached', at(5), { entries: [], hitKeys: [], hits: 0, evictBeyond: 2 });
    expect(await results('acme', ['k1', 'k2', 'k3', 'k4'])).toEqual(new Map([['k3', 'r3b'], ['k4', 'r4']]));
    expect((await store.jobs.get('acme', 'cached'))!.progress.rowsCached).toBe(2);
    // The other account's entries live and go on their own.
    await store.jobs.create({ ...jobRecord('theirs', await store.rows.createSet('other'), 1), accountId: 'other' }, { runnable: true, ranges: [[0, 1]] });
    await complete('other', 'theirs', at(6), { entries: [{ key: 'k3', result: 'theirs' }], hitKeys: [], hits: 0, evictBeyond: 5 });
    expect(await results('other', ['k3', 'k4'])).toEqual(new Map([['k3', 'theirs']]));
    expect(await results('acme', ['k3'])).toEqual(new Map([['k3', 'r3b']]));
  });

  it('lets a signed upload URL be claimed once, and released after a failure', async () => {
    const record = {
      tokenHash: 'tok', accountId: 'acme', purpose: 'upload' as const, targetKind: 'dataset' as const, targetId: 'd',
      filename: 'a.jsonl', size: 10, expireTime: new Date(Date.now() + 60_000).toISOString(), usedTime: '',
      stagedRowSetId: null, stagedStats: null, stagedBlobId: null,
    };
    await store.signedUrls.create(record);
    const claims = await Promise.all([store.signedUrls.claim('tok', nowIso()), store.signedUrls.claim('tok', nowIso())]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    await store.signedUrls.release('tok');
    expect(await store.signedUrls.claim('tok', nowIso())).toBe(true);
    const set = await store.rows.createSet('acme');
    const stats = { exampleCount: 1, format: 'CHAT' as const, averageTurnCount: 1, estimatedTokenCount: 1 };
    await store.signedUrls.stage('tok', { rowSetId: set, stats });
    expect(await store.signedUrls.listStaged('acme', 'dataset', 'd')).toMatchObject([{ stagedRowSetId: set, stagedStats: stats }]);
    expect(await store.signedUrls.deleteExpired(new Date(Date.now() + 120_000).toISOString())).toBe(1);
  });

  it('lists datasets of one account only, with paging and filters', async () => {
    for (let i = 0; i < 5; i++) await store.datasets.create(dataset(`d${i}`, { exampleCount: i }));
    await store.accounts.create({ id: 'other', displayName: 'o', createTime: nowIso(), updateTime: nowIso() });
    await store.datasets.create({ ...dataset('foreign'), accountId: 'other' });
    const page = await store.datasets.list('acme', { pageSize: 2, filter: 'exampleCount >= 1', orderBy: 'exampleCount desc' });
    expect(page.items.map((d) => d.id)).toEqual(['d4', 'd3']);
    expect(page.totalSize).toBe(4);
    const next = await store.datasets.list('acme', { pageSize: 2, filter: 'exampleCount >= 1', orderBy: 'exampleCount desc', pageToken: page.nextPageToken });
    expect(next.items.map((d) => d.id)).toEqual(['d2', 'd1']);
    expect((await store.datasets.list('acme', {})).items.map((d) => d.id)).not.toContain('foreign');
  });
});
