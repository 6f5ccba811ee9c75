import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

export type OutputStream = 'stdout' | 'stderr';

export interface OutputStats {
  capturedBytes: number;
  discardedBytes: number;
}

/**
 * Drains a child's stdout and stderr continuously (a full pipe would block the evaluator),
 * passing at most `limitBytes` in total to `onOutput`; the rest is counted and dropped.
 */
export function captureOutput(
  streams: Partial<Record<OutputStream, Readable | null>>,
  limitBytes: number,
  onOutput: (stream: OutputStream, text: string) => void,
): OutputStats {
  const stats: OutputStats = { capturedBytes: 0, discardedBytes: 0 };
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = streams[name];
    if (!stream) continue;
    const decoder = new StringDecoder('utf8');
    stream.on('data', (chunk: Buffer) => {
      const room = Math.max(0, limitBytes - stats.capturedBytes);
      const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
      stats.capturedBytes += kept.length;
      stats.discardedBytes += chunk.length - kept.length;
      if (kept.length > 0) {
        const text = decoder.write(kept);
        if (text) onOutput(name, text);
      }
    });
    stream.on('error', () => undefined);
  }
  return stats;
}
