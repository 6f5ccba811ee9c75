/**
 * Safe extraction of an uploaded evaluator archive (tar.gz from `ep upload`, zip, or plain tar)
 * into a fresh directory. Everything about it assumes a hostile archive: see unpack-limits.ts
 * for the path rules and unpack-writer.ts for how links and limits are enforced.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { archiveError, formatBytes, resolveLimits, type UnpackLimits } from './unpack-limits.js';
import { scanTar, unpackTar } from './unpack-tar.js';
import { UnpackWriter } from './unpack-writer.js';
import { unpackZip } from './unpack-zip.js';

export { DEFAULT_UNPACK_LIMITS, type UnpackLimits } from './unpack-limits.js';

export type ArchiveKind = 'tar.gz' | 'zip' | 'tar';

export interface UnpackOptions {
  /** The archive's bytes as they arrive, or the path of a file holding it. */
  archive: AsyncIterable<Uint8Array> | string;
  kind: ArchiveKind;
  /** Must not exist or be empty; it is removed again when the archive is refused. */
  destination: string;
  limits?: Partial<UnpackLimits>;
  /** Where a streamed zip is spooled (zip needs random access). Defaults to the OS temp dir. */
  spoolDirectory?: string;
}

export interface UnpackResult {
  /** Files and links written (directories not counted). */
  files: number;
  bytes: number;
  /** The single top-level directory when every member shares one (as `ep upload` makes), else destination. */
  root: string;
}

export async function unpackArchive(options: UnpackOptions): Promise<UnpackResult> {
  const limits = resolveLimits(options.limits);
  const destination = path.resolve(options.destination);
  await prepareDestination(destination);
  const writer = new UnpackWriter(destination, limits);
  try {
    await unpackInto(options, writer, limits);
    await writer.verifyLinks();
  } catch (error) {
    await rm(destination, { recursive: true, force: true });
    throw error;
  }
  return { files: writer.files, bytes: writer.bytes, root: writer.root() };
}

async function prepareDestination(destination: string): Promise<void> {
  await mkdir(destination, { recursive: true, mode: 0o755 });
  if ((await readdir(destination)).length > 0) {
    throw new Error(`unpack destination ${destination} is not empty`);
  }
  await chmod(destination, 0o755);
}

async function unpackInto(options: UnpackOptions, writer: UnpackWriter, limits: UnpackLimits): Promise<void> {
  const { archive, kind } = options;
  if (kind === 'zip') {
    if (typeof archive === 'string') return unpackZip(archive, writer, limits);
    return withSpooledFile(archive, options.spoolDirectory ?? tmpdir(), limits, (file) => unpackZip(file, writer, limits));
  }
  const gzip = kind === 'tar.gz';
  if (typeof archive !== 'string') return unpackTar(Readable.from(archive, { objectMode: false }), gzip, writer, limits);
  await scanTar(createReadStream(archive), gzip, limits);
  return unpackTar(createReadStream(archive), gzip, writer, limits);
}

/**
 * Zip needs random access, so a streamed zip goes to a private temp file first (never memory).
 * A zip larger than the unpacked limit cannot be valid (stored members are at least their own
 * size minus headers), which bounds the spool.
 */
async function withSpooledFile<T>(
  archive: AsyncIterable<Uint8Array>,
  spoolDirectory: string,
  limits: UnpackLimits,
  use: (file: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(spoolDirectory, 'tally-zip-'));
  try {
    const file = path.join(dir, 'archive.zip');
    const cap = limits.maxTotalBytes + limits.maxFiles * 1024 + 1024 * 1024;
    await pipeline(Readable.from(capped(archive, cap)), createWriteStream(file, { mode: 0o600 }));
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function* capped(source: AsyncIterable<Uint8Array>, cap: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    if (seen > cap) throw archiveError(`the zip archive is larger than ${formatBytes(cap)}`);
    yield chunk;
  }
}
