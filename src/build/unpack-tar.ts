/**
 * Streams a tar (optionally gzip-compressed) into an UnpackWriter. Nothing is buffered beyond
 * what tar-stream holds for one header; the decompressed stream is capped as a whole, so a
 * gzip of endless zeros after the end-of-archive marker cannot keep us busy either.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar, { type Extract } from 'tar-stream';
import { isApiError } from '../domain/errors.js';
import {
  archiveError,
  checkDeclaredSize,
  formatBytes,
  memberError,
  memberSegments,
  type UnpackLimits,
} from './unpack-limits.js';
import type { UnpackWriter } from './unpack-writer.js';

type Entry = Extract extends AsyncIterable<infer E> ? E : never;

/** Headers, padding and pax records on top of the content: generous, but finite. */
function rawStreamLimit(limits: UnpackLimits): number {
  return limits.maxTotalBytes + limits.maxFiles * 4096 + 1024 * 1024;
}

class ByteCap extends Transform {
  private seen = 0;
  constructor(private readonly cap: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.cap) {
      done(archiveError(`the decompressed archive is larger than ${formatBytes(this.cap)}`));
      return;
    }
    done(null, chunk);
  }
}

export function unpackTar(source: Readable, gzip: boolean, writer: UnpackWriter, limits: UnpackLimits): Promise<void> {
  return eachEntry(source, gzip, limits, (entry) => unpackEntry(entry, writer));
}

/**
 * Reads only the headers and refuses what the headers alone give away (too many members, bad
 * paths or types, declared sizes). Creating files is slow (about 0.5-1.5 ms each on our build
 * machines), so a 100,000-member archive is refused in a fraction of a second this way instead
 * of after writing 10,000 files. Only possible when the archive can be read twice (a file).
 */
export function scanTar(source: Readable, gzip: boolean, limits: UnpackLimits): Promise<void> {
  let members = 0;
  let declared = 0;
  return eachEntry(source, gzip, limits, async (entry) => {
    const { name, size } = entry.header;
    await drain(entry);
    if (memberSegments(name, limits) === null) return;
    members += 1;
    if (members > limits.maxFiles) throw memberError(name, `the archive has more than ${limits.maxFiles} members`);
    const type = entry.header.type as string | null;
    if (!ALLOWED_TYPES.has(type ?? '')) throw disallowedType(name, type);
    if (type === 'file' || type === 'contiguous-file') {
      declared += size;
      checkDeclaredSize(name, size, declared - size, limits);
    }
  });
}

async function eachEntry(
  source: Readable,
  gzip: boolean,
  limits: UnpackLimits,
  onEntry: (entry: Entry) => Promise<void>,
): Promise<void> {
  const extract = tar.extract();
  const cap = new ByteCap(rawStreamLimit(limits));
  const piping = gzip ? pipeline(source, createGunzip(), cap, extract) : pipeline(source, cap, extract);
  // Read errors surface through the iterator below; this only keeps the rejection handled.
  piping.catch(() => undefined);
  try {
    for await (const entry of extract) await onEntry(entry);
    await piping;
  } catch (error) {
    source.destroy();
    extract.destroy();
    throw isApiError(error) ? error : archiveError(`corrupt or truncated tar archive (${describe(error)})`, error);
  }
}

async function unpackEntry(entry: Entry, writer: UnpackWriter): Promise<void> {
  const { name, size, linkname } = entry.header;
  // The typings list only the types tar-stream knows; anything else arrives as null.
  const type = entry.header.type as string | null;
  switch (type) {
    case 'file':
    case 'contiguous-file':
      writer.checkDeclaredSize(name, size ?? 0);
      await writer.file(name, entry as AsyncIterable<Uint8Array>);
      return;
    case 'directory':
      await drain(entry);
      await writer.directory(name);
      return;
    case 'symlink':
      await drain(entry);
      await writer.symlink(name, linkname ?? '');
      return;
    case 'link':
      await drain(entry);
      await writer.hardlink(name, linkname ?? '');
      return;
    case null: // a type tar-stream does not know
    default:
      throw disallowedType(name, type);
  }
}

const ALLOWED_TYPES = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link']);

function disallowedType(name: string, type: string | null): Error {
  return memberError(name, `${type ?? 'unknown-type'} entries are not allowed (only files, directories and links)`);
}

async function drain(entry: Entry): Promise<void> {
  for await (const chunk of entry) void chunk;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
