import { describe, expect, it } from 'vitest';
import { createFrameReader } from './frame-reader.js';

describe('createFrameReader', () => {
  it('joins frames split across chunks, including inside a UTF-8 character', () => {
    const frames: string[] = [];
    const reader = createFrameReader({ maxFrameBytes: 100, onFrame: (f) => frames.push(f), onOverflow: () => undefined });
    const bytes = Buffer.from('{"a":"é"}\n{"b":1}\n{"c"');
    reader.push(bytes.subarray(0, 7));
    reader.push(bytes.subarray(7, 12));
    reader.push(bytes.subarray(12));
    reader.push(Buffer.from(':2}\n'));
    expect(frames).toEqual(['{"a":"é"}', '{"b":1}', '{"c":2}']);
  });

  it('stops at the cap while the frame is still arriving', () => {
    const overflows: number[] = [];
    const frames: string[] = [];
    const reader = createFrameReader({ maxFrameBytes: 10, onFrame: (f) => frames.push(f), onOverflow: (n) => overflows.push(n) });
    reader.push(Buffer.from('ok\n123456'));
    reader.push(Buffer.from('7890123'));
    reader.push(Buffer.from('\nlater\n'));
    expect(frames).toEqual(['ok']);
    expect(overflows).toEqual([13]);
  });
});
