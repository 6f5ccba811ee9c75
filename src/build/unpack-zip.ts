/**
 * Reads a zip file (random access, so it must be on disk) into an UnpackWriter. The central
 * directory gives the member count and declared sizes up front; the content is still counted
 * while it streams, because declared sizes can lie (yauzl also checks them against the data).
 */
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { isApiError } from '../domain/errors.js';
import { archiveError, memberError, type UnpackLimits } from './unpack-limits.js';
import type { UnpackWriter } from './unpack-writer.js';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const MADE_BY_UNIX = 3;
const MAX_LINK_TARGET_BYTES = 4096;

/** yauzl exports this, but its type definitions predate it. */
const decodeName = (yauzl as unknown as {
  getFileNameLowLevel(flags: number, raw: Buffer, extra: yauzl.Entry['extraFields'], strict: boolean): string;
}).getFileNameLowLevel;

export async function unpackZip(file: string, writer: UnpackWriter, limits: UnpackLimits): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (error) {
    throw archiveError(`corrupt zip archive (${describe(error)})`, error);
  }
  try {
    if (zip.entryCount > limits.maxFiles) {
      throw archiveError(`the archive has ${zip.entryCount} members, more than the limit of ${limits.maxFiles}`);
    }
    for await (const entry of entries(zip)) await unpackEntry(zip, entry, writer);
  } catch (error) {
    throw isApiError(error) ? error : archiveError(`corrupt zip archive (${describe(error)})`, error);
  } finally {
    zip.close();
  }
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // decodeStrings off: yauzl's own name checks would fail with messages that do not follow
    // ours; we decode the name with its decoder and check it ourselves.
    yauzl.open(file, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

/** Turns yauzl's event API into an async iterator, one entry at a time. */
async function* entries(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  let failure: unknown;
  let wake: (() => void) | undefined;
  let next: yauzl.Entry | null | undefined;
  zip.on('error', (error: unknown) => { failure = error; wake?.(); });
  zip.on('entry', (entry: yauzl.Entry) => { next = entry; wake?.(); });
  zip.on('end', () => { next = null; wake?.(); });
  for (;;) {
    next = undefined;
    const arrived = new Promise<void>((resolve) => { wake = resolve; });
    zip.readEntry();
    if (next === undefined && failure === undefined) await arrived;
    if (failure !== undefined) throw failure;
    if (next === null || next === undefined) return;
    yield next;
  }
}

async function unpackEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, writer: UnpackWriter): Promise<void> {
  const name = decodeName(entry.generalPurposeBitFlag, entry.fileName as unknown as Buffer, entry.extraFields, false);
  // Finder's resource forks: never part of a project, and they would defeat root detection.
  if (name === '__MACOSX' || name.startsWith('__MACOSX/')) return;
  if (entry.isEncrypted()) throw memberError(name, 'encrypted zip members are not supported');
  const type = entry.versionMadeBy >> 8 === MADE_BY_UNIX ? (entry.externalFileAttributes >>> 16) & S_IFMT : 0;
  if (name.endsWith('/') || type === S_IFDIR) return writer.directory(name);
  if (type === S_IFLNK) return writer.symlink(name, await readLinkTarget(zip, entry, name));
  if (type !== 0 && type !== S_IFREG) {
    throw memberError(name, 'special files (devices, fifos, sockets) are not allowed');
  }
  writer.checkDeclaredSize(name, entry.uncompressedSize);
  const stream = await openEntry(zip, entry);
  try {
    await writer.file(name, stream);
  } finally {
    stream.destroy();
  }
}

async function readLinkTarget(zip: yauzl.ZipFile, entry: yauzl.Entry, name: string): Promise<string> {
  if (entry.uncompressedSize > MAX_LINK_TARGET_BYTES) throw memberError(name, 'symlink target is too long');
  const chunks: Buffer[] = [];
  for await (const chunk of await openEntry(zip, entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      // The reader sees errors through iteration; yauzl may emit one more after we stopped
      // reading (the size check fires once more on buffered data), which must not crash us.
      stream.on('error', () => undefined);
      resolve(stream);
    });
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
