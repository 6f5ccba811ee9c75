import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface ArchiveEntry {
  name: string;
  content?: string;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
}

/** A .tar.gz in memory, built entry by entry (including hostile ones, for the refusal tests). */
export async function tarGz(entries: ArchiveEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const finished = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    if (type === 'file') pack.entry({ name: entry.name, mode: 0o644 }, entry.content ?? '');
    else pack.entry({ name: entry.name, type, linkname: entry.linkname, mode: 0o755 });
  }
  pack.finalize();
  await finished;
  return gzipSync(Buffer.concat(chunks));
}
