import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar, { type Header } from 'tar-stream';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isApiError } from '../domain/errors.js';
import { unpackArchive, type ArchiveKind, type UnpackOptions } from './unpack.js';
import { resolveLimits } from './unpack-limits.js';
import { UnpackWriter } from './unpack-writer.js';

const PYTHON = '/usr/bin/python3';

type Member = Partial<Header> & { name: string; content?: string };

async function makeTar(members: Member[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { content, ...header } of members) {
    pack.entry(header, content ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function* chunked(buffer: Buffer, size = 4096): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
}

/** Builds a zip with python's zipfile; `script` gets `zf` (an open ZipFile) and `out`. */
function makeZip(file: string, script: string): void {
  const program = `import sys, zipfile\nout = sys.argv[1]\nwith zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as zf:\n${script
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')}\n`;
  execFileSync(PYTHON, ['-c', program, file]);
}

let work: string;
let dest: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'tally-unpack-test-'));
  dest = path.join(work, 'out');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function refusal(options: Partial<UnpackOptions> & Pick<UnpackOptions, 'archive'>, kind: ArchiveKind = 'tar') {
  const error = await unpackArchive({ destination: dest, kind, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isApiError(error), `expected an ApiError, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe('FAILED_PRECONDITION');
  // A refused archive leaves nothing behind.
  expect(existsSync(dest)).toBe(false);
  return (error as Error).message;
}

describe('unpackArchive: a normal ep upload tarball', () => {
  it('extracts, detects the project root and writes readable modes', async () => {
    const archive = gzipSync(
      await makeTar([
        { name: 'proj/', type: 'directory', mode: 0o700 },
        { name: 'proj/requirements.txt', content: 'six==1.16.0\n', mode: 0o600 },
        { name: 'proj/test_x.py', content: 'def test_x():\n    pass\n', mode: 0o755 },
        { name: 'proj/pkg/util.py', content: 'X = 1\n' },
        { name: 'proj/link.py', type: 'symlink', linkname: 'pkg/util.py' },
      ]),
    );
    const result = await unpackArchive({ archive: chunked(archive), kind: 'tar.gz', destination: dest });
    expect(result).toEqual({ files: 4, bytes: 12 + 23 + 6, root: path.join(dest, 'proj') });
    expect(await readFile(path.join(dest, 'proj/test_x.py'), 'utf8')).toContain('def test_x');
    expect((await stat(path.join(dest, 'proj/requirements.txt'))).mode & 0o777).toBe(0o644);
    expect((await stat(path.join(dest, 'proj'))).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(dest, 'proj/pkg'))).mode & 0o777).toBe(0o755);
    expect(await readlink(path.join(dest, 'proj/link.py'))).toBe('pkg/util.py');
  });

  it('reads from a file path, and reports the destination as root when members do not share one', async () => {
    const file = path.join(work, 'a.tar');
    await writeFile(file, await makeTar([{ name: 'main.py', content: 'x' }, { name: 'lib/a.py', content: 'y' }]));
    const result = await unpackArchive({ archive: file, kind: 'tar', destination: dest });
    expect(result.root).toBe(dest);
    expect(result.files).toBe(2);
  });

  it('extracts a zip made by python, skipping __MACOSX', async () => {
    const file = path.join(work, 'a.zip');
    makeZip(file, "zf.writestr('proj/main.py', 'x = 1')\nzf.writestr('__MACOSX/proj/._main.py', 'junk')");
    const result = await unpackArchive({ archive: file, kind: 'zip', destination: dest });
    expect(result).toEqual({ files: 1, bytes: 5, root: path.join(dest, 'proj') });
    expect((await stat(path.join(dest, 'proj/main.py'))).mode & 0o777).toBe(0o644);
  });

  it('spools a streamed zip to disk', async () => {
    const file = path.join(work, 'a.zip');
    makeZip(file, "zf.writestr('proj/main.py', 'x = 1')");
    const result = await unpackArchive({ archive: chunked(await readFile(file), 7), kind: 'zip', destination: dest });
    expect(result.files).toBe(1);
  });
});

describe('unpackArchive: hostile tars', () => {
  it('refuses .. traversal', async () => {
    const archive = await makeTar([{ name: 'proj/ok.py', content: 'x' }, { name: 'proj/../../evil.py', content: 'x' }]);
    expect(await refusal({ archive: chunked(archive) })).toMatch(/"proj\/\.\.\/\.\.\/evil\.py".*traversal/);
    expect(existsSync(path.join(work, 'evil.py'))).toBe(false);
  });

  it('refuses absolute paths', async () => {
    const archive = await makeTar([{ name: '/tmp/evil.py', content: 'x' }]);
    expect(await refusal({ archive: chunked(archive) })).toMatch(/"\/tmp\/evil\.py".*absolute/);
  });

  it('refuses a symlink pointing outside', async () => {
    for (const linkname of ['../../etc', '/etc/passwd', 'a/../../x']) {
      const archive = await makeTar([{ name: 'proj/escape', type: 'symlink', linkname }]);
      expect(await refusal({ archive: chunked(archive) })).toMatch(/"proj\/escape".*symlink/);
    }
  });

  it('refuses a symlink chain that escapes physically though it looks inside', async () => {
    const archive = await makeTar([
      { name: 'here', type: 'symlink', linkname: '.' },
      { name: 'up', type: 'symlink', linkname: 'here/..' },
    ]);
    expect(await refusal({ archive: chunked(archive) })).toMatch(/"up".*outside/);
  });

  it('refuses writing through a symlink', async () => {
    const archive = await makeTar([
      { name: 'sub/', type: 'directory' },
      { name: 'via', type: 'symlink', linkname: 'sub' },
      { name: 'via/x.py', content: 'x' },
    ]);
    expect(await refusal({ archive: chunked(archive) })).toMatch(/"via\/x\.py".*through the symlink/);
  });

  it('refuses a hard link pointing outside or to something not in the archive', async () => {
    for (const linkname of ['/etc/passwd', '../../etc/passwd', 'missing.py']) {
      const archive = await makeTar([{ name: 'proj/pw', type: 'link', linkname }]);
      expect(await refusal({ archive: chunked(archive) })).toMatch(/"proj\/pw".*hard link/);
    }
  });

  it('turns an inside hard link into a copy', async () => {
    const archive = await makeTar([
      { name: 'a.py', content: 'abc' },
      { name: 'b.py', type: 'link', linkname: 'a.py' },
    ]);
    const result = await unpackArchive({ archive: chunked(archive), kind: 'tar', destination: dest });
    expect(result).toMatchObject({ files: 2, bytes: 6 });
    expect((await lstat(path.join(dest, 'b.py'))).nlink).toBe(1);
  });

  it('refuses device and fifo entries', async () => {
    for (const type of ['character-device', 'block-device', 'fifo'] as const) {
      const archive = await makeTar([{ name: 'proj/dev', type, devmajor: 1, devminor: 3 }]);
      expect(await refusal({ archive: chunked(archive) })).toMatch(new RegExp(`"proj/dev".*${type}.*not allowed`));
    }
  });

  it('refuses an over-long path', async () => {
    const name = `proj/${'a'.repeat(200)}/${'b'.repeat(200)}`;
    const archive = await makeTar([{ name, content: 'x' }]);
    expect(await refusal({ archive: chunked(archive), limits: { maxPathLength: 300 } })).toMatch(/longer than 300/);
  });

  it('refuses a file larger than maxFileBytes from its header, before writing', async () => {
    const archive = await makeTar([{ name: 'big.bin', content: 'x'.repeat(5000) }]);
    expect(await refusal({ archive: chunked(archive), limits: { maxFileBytes: 4096 } })).toMatch(/"big\.bin".*per-file limit/);
  });

  it('refuses corrupt and truncated archives', async () => {
    const garbage = Buffer.from('this is not a gzip stream at all'.repeat(40));
    expect(await refusal({ archive: chunked(garbage) }, 'tar.gz')).toMatch(/corrupt/);
    const good = gzipSync(await makeTar([{ name: 'a.py', content: 'x'.repeat(100_000) }]));
    expect(await refusal({ archive: chunked(good.subarray(0, good.length / 2)) }, 'tar.gz')).toMatch(/corrupt|truncated/);
  });

  it('refuses 100,000 tiny files fast, by maxFiles', async () => {
    const file = path.join(work, 'many.tar.gz');
    execFileSync(PYTHON, [
      '-c',
      `import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w:gz', compresslevel=1) as tf:
    for i in range(100000):
        tf.addfile(tarfile.TarInfo(f'proj/f{i}.txt'), io.BytesIO(b''))`,
      file,
    ]);
    const started = performance.now();
    expect(await refusal({ archive: file }, 'tar.gz')).toMatch(/more than 10000 members/);
    const elapsed = performance.now() - started;
    console.log(`100,000-member tar refused after ${elapsed.toFixed(0)} ms`);
    // From a file the headers are scanned before anything is written.
    expect(elapsed).toBeLessThan(2_000);
  });

  it('refuses too many members while streaming, too', async () => {
    const members = Array.from({ length: 20 }, (_, i) => ({ name: `proj/f${i}.py`, content: '' }));
    const archive = await makeTar(members);
    expect(await refusal({ archive: chunked(archive), limits: { maxFiles: 10 } })).toMatch(/"proj\/f10\.py".*more than 10 members/);
  });
});

describe('unpackArchive: zip bombs', () => {
  /** 1 GiB of zeros, deflated to about 1 MiB; made once, it takes python a few seconds. */
  let bomb: Buffer;
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tally-bomb-'));
    const file = path.join(dir, 'bomb.zip');
    makeZip(
      file,
      "with zf.open('proj/zeros.bin', 'w') as f:\n    block = bytes(1 << 20)\n    for _ in range(1024):\n        f.write(block)",
    );
    bomb = await readFile(file);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an honest 1 GiB zip of zeros from its declared size, writing nothing', async () => {
    const file = path.join(work, 'bomb.zip');
    await writeFile(file, bomb);
    expect((await stat(file)).size).toBeLessThan(2 * 1024 * 1024);
    const started = performance.now();
    expect(await refusal({ archive: file }, 'zip')).toMatch(/"proj\/zeros\.bin": declares 1024 MiB, more than the per-file limit/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('stops a zip whose headers lie about the size while it streams', async () => {
    const file = path.join(work, 'liar.zip');
    // Claim 1000 bytes in both the local header (offset 22) and the central directory (offset 24).
    const bytes = Buffer.from(bomb);
    bytes.writeUInt32LE(1000, 22);
    const central = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bytes.writeUInt32LE(1000, central + 24);
    await writeFile(file, bytes);
    const started = performance.now();
    expect(await refusal({ archive: file }, 'zip')).toMatch(/corrupt zip.*too many bytes/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('counts bytes while streaming: a 1 GiB stream stops at the limit', async () => {
    await rm(dest, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dest);
    const writer = new UnpackWriter(dest, resolveLimits({ maxTotalBytes: 8 << 20 }));
    async function* zeros(): AsyncGenerator<Uint8Array> {
      const block = new Uint8Array(1 << 20);
      for (let i = 0; i < 1024; i += 1) yield block;
    }
    await expect(writer.file('zeros.bin', zeros())).rejects.toThrow(/total limit of 8 MiB \(stopped after 9437184 bytes\)/);
    // The chunk that crossed the limit was never written.
    expect((await stat(path.join(dest, 'zeros.bin'))).size).toBe(8 << 20);
  });

  it('refuses a zip with too many members from its central directory', async () => {
    const file = path.join(work, 'many.zip');
    makeZip(file, "for i in range(50):\n    zf.writestr(f'f{i}', '')");
    expect(await refusal({ archive: file, limits: { maxFiles: 10 } }, 'zip')).toMatch(/50 members, more than the limit of 10/);
  });

  it('refuses zip traversal, absolute paths and symlinks out', async () => {
    const cases: [string, RegExp][] = [
      ["zf.writestr('../evil.py', 'x')", /"\.\.\/evil\.py".*traversal/],
      ["zf.writestr('/abs.py', 'x')", /"\/abs\.py".*absolute/],
      [
        "info = zipfile.ZipInfo('proj/out')\ninfo.create_system = 3\ninfo.external_attr = 0o120777 << 16\nzf.writestr(info, '../../etc/passwd')",
        /"proj\/out".*symlink target/,
      ],
      [
        "info = zipfile.ZipInfo('proj/fifo')\ninfo.create_system = 3\ninfo.external_attr = 0o010644 << 16\nzf.writestr(info, '')",
        /"proj\/fifo".*special files/,
      ],
    ];
    for (const [script, message] of cases) {
      const file = path.join(work, 'x.zip');
      makeZip(file, script);
      expect(await refusal({ archive: file }, 'zip')).toMatch(message);
    }
  });
});
