import { describe, expect, it } from 'vitest';
import { BuildLog, LineSplitter } from './build-log.js';

const fixed = () => new Date('2026-01-02T03:04:05.000Z');

describe('BuildLog', () => {
  it('timestamps every line and splits multi-line text', () => {
    const seen: string[] = [];
    const log = new BuildLog({ now: fixed, onLine: (line) => seen.push(line) });
    log.append('first\r\nsecond\n');
    log.log('third');
    expect(log.text()).toBe(
      '2026-01-02T03:04:05.000Z first\n2026-01-02T03:04:05.000Z second\n2026-01-02T03:04:05.000Z third\n',
    );
    expect(seen).toHaveLength(3);
    expect(log.truncated).toBe(false);
  });

  it('keeps the start and the end under the cap, and says what it dropped', () => {
    const log = new BuildLog({ now: fixed, maxBytes: 4000 });
    for (let i = 0; i < 10_000; i += 1) log.append(`line ${i}`);
    log.append('ERROR: No matching distribution found for nonexistent-pkg');
    const text = log.text();
    expect(Buffer.byteLength(text)).toBeLessThan(4000 + 200);
    expect(text).toContain(' line 0\n');
    expect(text).toMatch(/\.\.\. \d+ lines \(\d+ bytes\) omitted/);
    expect(text.trimEnd().endsWith('ERROR: No matching distribution found for nonexistent-pkg')).toBe(true);
    expect(log.truncated).toBe(true);
  });

  it('cuts a runaway line', () => {
    const log = new BuildLog({ now: fixed, maxLineBytes: 10 });
    log.append('x'.repeat(100));
    expect(log.text()).toBe('2026-01-02T03:04:05.000Z xxxxxxxxxx [line cut at 10 bytes]\n');
  });
});

describe('LineSplitter', () => {
  it('emits whole lines across chunk and UTF-8 boundaries', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    const bytes = Buffer.from('héllo\r\nwor');
    splitter.push(bytes.subarray(0, 2));
    splitter.push(bytes.subarray(2));
    splitter.push('ld\npartial');
    expect(lines).toEqual(['héllo', 'world']);
    splitter.end();
    expect(lines).toEqual(['héllo', 'world', 'partial']);
  });
});
