/**
 * Splits the child's fd-3 byte stream into lines, counting the bytes of the frame being
 * received so an endless or huge frame is stopped at the cap instead of filling our memory.
 */
export interface FrameReader {
  push(chunk: Buffer): void;
}

export interface FrameReaderOptions {
  maxFrameBytes: number;
  onFrame(line: string): void;
  /** Called once when a frame passes the cap; nothing more is delivered afterwards. */
  onOverflow(bytes: number): void;
}

export function createFrameReader({ maxFrameBytes, onFrame, onOverflow }: FrameReaderOptions): FrameReader {
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let stopped = false;
  return {
    push(chunk: Buffer): void {
      let start = 0;
      while (!stopped) {
        const newline = chunk.indexOf(10, start);
        const end = newline === -1 ? chunk.length : newline;
        partialBytes += end - start;
        if (partialBytes > maxFrameBytes) {
          stopped = true;
          partial = [];
          onOverflow(partialBytes);
          return;
        }
        if (newline === -1) {
          if (end > start) partial.push(chunk.subarray(start, end));
          return;
        }
        const piece = chunk.subarray(start, end);
        const line = partial.length === 0 ? piece : Buffer.concat([...partial, piece]);
        partial = [];
        partialBytes = 0;
        start = newline + 1;
        onFrame(line.toString('utf8'));
      }
    },
  };
}
