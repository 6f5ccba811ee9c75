import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  JsonlScanner,
  formatLineErrors,
  scanJsonl,
  type JsonlLimits,
  type JsonlRow,
} from './jsonl.js';

const enc = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Feeds `data` cut at the given offsets and returns all rows plus the scanner. */
function scanSplit(
  data: Buffer,
  cuts: number[] = [],
  limits?: Partial<JsonlLimits>,
): { rows: JsonlRow[]; scanner: JsonlScanner } {
  const scanner = new JsonlScanner(limits);
  const rows: JsonlRow[] = [];
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    rows.push(...scanner.push(data.subarray(at, cut)));
    at = cut;
  }
  rows.push(...scanner.push(data.subarray(at)));
  rows.push(...scanner.end());
  return { rows, scanner };
}

const scanText = (text: string, limits?: Partial<JsonlLimits>) => scanSplit(enc(text), [], limits);

const summary = (rows: JsonlRow[]) => rows.map((r) => [r.line, r.text]);

describe('JsonlScanner line splitting', () => {
  it('numbers lines from 1 and returns text and parsed value', () => {
    const { rows, scanner } = scanText('{"a":1}\n{"b":"x"}\n');
    expect(rows).toEqual([
      { line: 1, text: '{"a":1}', value: { a: 1 } },
      { line: 2, text: '{"b":"x"}', value: { b: 'x' } },
    ]);
    expect(scanner.errorCount).toBe(0);
  });

  it('strips CRLF line endings', () => {
    const { rows } = scanText('{"a":1}\r\n{"a":2}\r\n');
    expect(summary(rows)).toEqual([
      [1, '{"a":1}'],
      [2, '{"a":2}'],
    ]);
  });

  it('keeps CRLF handling when the \\r and \\n land in different chunks', () => {
    const data = enc('{"a":1}\r\n{"a":2}');
    const { rows } = scanSplit(data, [8]);
    expect(summary(rows)).toEqual([
      [1, '{"a":1}'],
      [2, '{"a":2}'],
    ]);
  });

  it('strips a UTF-8 BOM on the first line, even when split across chunks', () => {
    const data = enc('\uFEFF{"a":1}\n');
    for (const cut of [1, 2, 3]) {
      expect(summary(scanSplit(data, [cut]).rows)).toEqual([[1, '{"a":1}']]);
    }
  });

  it('treats a BOM after line 1 as content (not valid JSON)', () => {
    const { rows, scanner } = scanText('{"a":1}\n\uFEFF{"a":2}\n');
    expect(rows).toHaveLength(1);
    expect(scanner.errors.map((e) => e.line)).toEqual([2]);
    expect(scanner.errors[0]?.problem).toMatch(/^not valid JSON: /);
  });

  it('flushes a last line without a trailing newline', () => {
    const scanner = new JsonlScanner();
    expect(scanner.push(enc('{"a":1}\n{"a":2}'))).toHaveLength(1);
    expect(summary(scanner.end())).toEqual([[2, '{"a":2}']]);
    expect(scanner.end()).toEqual([]);
    expect(() => scanner.push(enc('{}'))).toThrow(/after end/);
  });

  it('skips blank and whitespace-only lines but still counts their line numbers', () => {
    const { rows, scanner } = scanText('\n{"a":1}\n   \n\t\r\n\r\n{"a":2}\n\n');
    expect(rows.map((r) => r.line)).toEqual([2, 6]);
    expect(scanner.errorCount).toBe(0);
    expect(scanner.stats.exampleCount).toBe(2);
  });

  it('returns nothing for an empty file', () => {
    const { rows, scanner } = scanText('');
    expect(rows).toEqual([]);
    expect(scanner.stats.format).toBe('FORMAT_UNSPECIFIED');
  });

  it('decodes multi-byte UTF-8 split across chunks at every offset', () => {
    const text = '{"t":"é€𝄞中"}\n{"t":"ü"}\n';
    const data = enc(text);
    for (let cut = 0; cut <= data.length; cut++) {
      const { rows, scanner } = scanSplit(data, [cut]);
      expect(rows.map((r) => r.value['t'])).toEqual(['é€𝄞中', 'ü']);
      expect(scanner.errorCount).toBe(0);
    }
  });

  it('accepts chunks that are plain Uint8Array views at an offset', () => {
    const backing = new Uint8Array(32);
    backing.set(enc('{"a":1}\n'), 5);
    const scanner = new JsonlScanner();
    expect(summary(scanner.push(backing.subarray(5, 13)))).toEqual([[1, '{"a":1}']]);
  });

  it('copies partial lines, so a caller may reuse its chunk buffer', () => {
    const scanner = new JsonlScanner();
    const reused = Buffer.alloc(4);
    const rows: JsonlRow[] = [];
    for (const piece of ['{"a"', ':12}', '\n{"b', '":3}']) {
      reused.write(piece);
      rows.push(...scanner.push(reused));
    }
    rows.push(...scanner.end());
    expect(rows.map((r) => r.value)).toEqual([{ a: 12 }, { b: 3 }]);
  });
});

describe('JsonlScanner property: chunking does not matter', () => {
  const jsonValue = fc.jsonValue({ maxDepth: 2 });
  const row = fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 6 }), jsonValue, {
    maxKeys: 4,
  });
  const lineEnding = fc.constantFrom('\n', '\r\n');
  const fileArb = fc.record({
    bom: fc.boolean(),
    lines: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: row.map((r) => JSON.stringify(r)) },
        { weight: 1, arbitrary: fc.constantFrom('', '  ', '\t', '[1]', '{"x":', 'nul') },
      ),
      { maxLength: 12 },
    ),
    endings: fc.array(lineEnding, { minLength: 12, maxLength: 12 }),
    finalNewline: fc.boolean(),
  });

  it('any split of a file gives the same rows and errors as one chunk', () => {
    fc.assert(
      fc.property(
        fileArb,
        fc.array(fc.nat(), { maxLength: 8 }),
        ({ bom, lines, endings, finalNewline }, rawCuts) => {
          let text = bom ? '\uFEFF' : '';
          lines.forEach((line, i) => {
            const last = i === lines.length - 1;
            text += line + (last && !finalNewline ? '' : endings[i]);
          });
          const data = enc(text);
          const cuts = rawCuts.map((c) => c % (data.length + 1));
          const whole = scanSplit(data);
          const split = scanSplit(data, cuts);
          expect(split.rows).toEqual(whole.rows);
          expect(split.scanner.errors).toEqual(whole.scanner.errors);
          expect(split.scanner.stats).toEqual(whole.scanner.stats);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('one-byte chunks give the same rows as one chunk', () => {
    const data = enc('\uFEFF{"messages":[{"role":"user","content":"héllo"}]}\r\n\n[]\n{"a":"中"}');
    const cuts = Array.from({ length: data.length }, (_, i) => i);
    const whole = scanSplit(data);
    const split = scanSplit(data, cuts);
    expect(split.rows).toEqual(whole.rows);
    expect(split.scanner.errors).toEqual(whole.scanner.errors);
    expect(summary(whole.rows)).toEqual([
      [1, '{"messages":[{"role":"user","content":"héllo"}]}'],
      [4, '{"a":"中"}'],
    ]);
  });
});

describe('JsonlScanner errors', () => {
  it('reports each error kind with its line number, in order', () => {
    const bad = Buffer.concat([
      enc('{"ok":1}\n'),
      enc('{"a":}\n'),
      Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d, 0x0a]), // {"\xff"}
      enc('[1,2]\n"s"\n3\ntrue\nnull\n'),
      enc(`{"long":"${'x'.repeat(50)}"}\n`),
    ]);
    const { rows, scanner } = scanSplit(bad, [], { maxLineBytes: 40 });
    expect(rows.map((r) => r.line)).toEqual([1]);
    expect(scanner.errors).toEqual([
      { line: 2, problem: expect.stringMatching(/^not valid JSON: .+/) },
      { line: 3, problem: 'not valid UTF-8' },
      { line: 4, problem: 'not a JSON object (got array)' },
      { line: 5, problem: 'not a JSON object (got string)' },
      { line: 6, problem: 'not a JSON object (got number)' },
      { line: 7, problem: 'not a JSON object (got boolean)' },
      { line: 8, problem: 'not a JSON object (got null)' },
      { line: 9, problem: 'longer than the limit of 40 bytes' },
    ]);
  });

  it('checks length before UTF-8 and UTF-8 before JSON', () => {
    const invalid = Buffer.from([0xc3, 0x28, 0x7b, 0x0a]);
    expect(scanSplit(invalid, [], { maxLineBytes: 2 }).scanner.errors[0]?.problem).toBe(
      'longer than the limit of 2 bytes',
    );
    expect(scanSplit(invalid).scanner.errors[0]?.problem).toBe('not valid UTF-8');
  });

  it('finds invalid UTF-8 in a line that spans chunks', () => {
    const data = Buffer.concat([enc('{"a":"'), Buffer.from([0xe2, 0x82]), enc('"}\n{"b":1}\n')]);
    for (let cut = 0; cut <= data.length; cut++) {
      const { rows, scanner } = scanSplit(data, [cut]);
      expect(scanner.errors).toEqual([{ line: 1, problem: 'not valid UTF-8' }]);
      expect(rows.map((r) => r.line)).toEqual([2]);
    }
  });

  it('uses the 8 MiB default limit in its message', () => {
    expect(new JsonlScanner().limits.maxLineBytes).toBe(8 * 1024 * 1024);
    const line = `{"a":"${'x'.repeat(8 * 1024 * 1024)}"}\n{"b":1}`;
    const { rows, scanner } = scanText(line);
    expect(scanner.errors).toEqual([{ line: 1, problem: 'longer than the limit of 8388608 bytes' }]);
    expect(rows.map((r) => r.line)).toEqual([2]);
  });

  it('accepts a line of exactly maxLineBytes, with BOM and CRLF, split anywhere', () => {
    const data = enc('\uFEFF{"a":"xx"}\r\n{"a":"xxx"}\r\n');
    for (let cut = 0; cut <= data.length; cut++) {
      const { rows, scanner } = scanSplit(data, [cut], { maxLineBytes: 10 });
      expect(rows.map((r) => r.line)).toEqual([1]);
      expect(scanner.errors).toEqual([{ line: 2, problem: 'longer than the limit of 10 bytes' }]);
    }
  });

  it('keeps the first maxErrors errors and counts them all', () => {
    const text = Array.from({ length: 25 }, (_, i) => (i % 5 === 0 ? '{"ok":true}' : '[]')).join('\n');
    const { rows, scanner } = scanText(text, { maxErrors: 3 });
    expect(rows).toHaveLength(5);
    expect(scanner.errorCount).toBe(20);
    expect(scanner.errors.map((e) => e.line)).toEqual([2, 3, 4]);
  });

  it('discards an over-long line as it streams, without growing memory', () => {
    const limit = 1024;
    const scanner = new JsonlScanner({ maxLineBytes: limit });
    expect(scanner.push(enc('{"a":1}\n{"big":"'))).toHaveLength(1);
    const filler = Buffer.alloc(4096, 0x78);
    let maxBuffered = 0;
    for (let i = 0; i < 2000; i++) {
      expect(scanner.push(filler)).toEqual([]);
      maxBuffered = Math.max(maxBuffered, scanner.bufferedBytes);
    }
    expect(maxBuffered).toBeLessThanOrEqual(limit + 4);
    expect(scanner.bufferedBytes).toBe(0);
    const tail = scanner.push(enc('"}\n{"b":2}\n'));
    expect(summary(tail)).toEqual([[3, '{"b":2}']]);
    expect(scanner.errors).toEqual([{ line: 2, problem: `longer than the limit of ${limit} bytes` }]);
  });

  it('reports an over-long unterminated last line at end()', () => {
    const scanner = new JsonlScanner({ maxLineBytes: 8 });
    scanner.push(enc('{"a":1}\n'));
    scanner.push(enc('{"aaaaaaaaaaaa'));
    expect(scanner.end()).toEqual([]);
    expect(scanner.errors).toEqual([{ line: 2, problem: 'longer than the limit of 8 bytes' }]);
  });

  it('keeps parser messages short', () => {
    const { scanner } = scanText(`{"a":${'1'.repeat(5000)}x}`);
    expect(scanner.errors[0]?.problem.length).toBeLessThanOrEqual(200 + 'not valid JSON: '.length);
  });

  it('rejects invalid limits', () => {
    expect(() => new JsonlScanner({ maxLineBytes: 0 })).toThrow(RangeError);
    expect(() => new JsonlScanner({ maxErrors: -1 })).toThrow(RangeError);
  });
});

describe('JsonlScanner stats', () => {
  const chat = (...contents: string[]) =>
    JSON.stringify({ messages: contents.map((content) => ({ role: 'user', content })) });

  it('recognises a chat dataset', () => {
    const { scanner } = scanText([chat('abcd', 'efgh'), chat('ijkl', 'mnop', 'q'), '[]'].join('\n'));
    expect(scanner.stats).toEqual({
      exampleCount: 2,
      format: 'CHAT',
      averageTurnCount: 2.5,
      estimatedTokenCount: 5, // ceil(17 bytes / 4)
    });
  });

  it('recognises a completion dataset', () => {
    const text = ['{"prompt":"abc","completion":"de"}', '{"prompt":"é","completion":"x"}'].join('\n');
    expect(scanText(text).scanner.stats).toEqual({
      exampleCount: 2,
      format: 'COMPLETION',
      averageTurnCount: 0,
      estimatedTokenCount: 2, // ceil((5 + 3) bytes / 4)
    });
  });

  it('counts decoded bytes of escaped text and ignores non-string content', () => {
    const text = [
      '{"messages":[{"role":"user","content":"\\u00e9\\u00e9"}]}',
      '{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]},null,7]}',
    ].join('\n');
    expect(scanText(text).scanner.stats).toEqual({
      exampleCount: 2,
      format: 'CHAT',
      averageTurnCount: 2,
      estimatedTokenCount: 1, // ceil(4 bytes / 4)
    });
  });

  it('is FORMAT_UNSPECIFIED for a mix, or an empty messages array', () => {
    const mixed = [chat('abcd'), '{"prompt":"abcd","completion":"efgh"}'].join('\n');
    expect(scanText(mixed).scanner.stats).toEqual({
      exampleCount: 2,
      format: 'FORMAT_UNSPECIFIED',
      averageTurnCount: 1,
      estimatedTokenCount: 3, // ceil(12 / 4)
    });
    expect(scanText('{"messages":[]}').scanner.stats.format).toBe('FORMAT_UNSPECIFIED');
    expect(scanText('{"prompt":"a"}').scanner.stats.format).toBe('FORMAT_UNSPECIFIED');
  });
});

describe('formatLineErrors', () => {
  it('lists errors and how many more there were', () => {
    const errors = [
      { line: 3, problem: 'not valid JSON: x' },
      { line: 9, problem: 'not a JSON object (got array)' },
    ];
    expect(formatLineErrors(errors, 14)).toBe(
      'line 3: not valid JSON: x; line 9: not a JSON object (got array); and 12 more errors',
    );
    expect(formatLineErrors(errors, 3)).toMatch(/; and 1 more error$/);
    expect(formatLineErrors(errors, 2)).not.toMatch(/more/);
    expect(formatLineErrors([], 0)).toBe('');
  });
});

describe('scanJsonl', () => {
  async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
    yield* parts;
  }

  it('yields batches of valid rows and returns the scanner', async () => {
    const lines = Array.from({ length: 7 }, (_, i) => `{"i":${i}}`);
    lines.splice(3, 0, 'oops');
    const text = lines.join('\n');
    const scanner = new JsonlScanner();
    const gen = scanJsonl(chunks(text.slice(0, 13), enc(text.slice(13))), scanner, 3);
    const batches: number[][] = [];
    let step = await gen.next();
    while (!step.done) {
      batches.push(step.value.map((r) => r.value['i'] as number));
      step = await gen.next();
    }
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(step.value).toBe(scanner);
    expect(scanner.errors).toEqual([{ line: 4, problem: expect.stringMatching(/^not valid JSON/) }]);
    expect(scanner.stats.exampleCount).toBe(7);
  });

  it('accepts limits instead of a scanner and rejects a bad batch size', async () => {
    const rows: JsonlRow[] = [];
    for await (const batch of scanJsonl(chunks('{"a":1}\n{"a":22}\n'), { maxLineBytes: 7 })) {
      rows.push(...batch);
    }
    expect(summary(rows)).toEqual([[1, '{"a":1}']]);
    await expect(scanJsonl(chunks(''), {}, 0).next()).rejects.toThrow(RangeError);
  });
});

describe('JsonlScanner row shape limits', () => {
  const nested = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

  it('accepts 256 levels and refuses 257, naming the line', () => {
    const { rows, scanner } = scanText(`{"ok":1}\n${nested(256)}\n${nested(257)}\n`);
    expect(rows.map((r) => r.line)).toEqual([1, 2]);
    expect(scanner.errors).toEqual([{ line: 3, problem: 'nested deeper than the limit of 256 levels' }]);
  });

  it('refuses an integer literal of more than 4300 digits, naming the line', () => {
    const big = '9'.repeat(4301);
    const { rows, scanner } = scanText(`{"n":${'9'.repeat(4300)}}\n{"n":-${big}}\n`);
    expect(rows.map((r) => r.line)).toEqual([1]);
    expect(scanner.errors).toEqual([{ line: 2, problem: 'an integer of 4301 digits is over the limit of 4300 digits' }]);
  });

  it('ends a string at an unescaped quote after an escaped backslash', () => {
    const brackets = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const { scanner } = scanText(`{"s":"x\\\\","a":${brackets(300)}}\n{"s":"x\\"${'['.repeat(300)}"}\n`);
    expect(scanner.errors).toEqual([{ line: 1, problem: 'nested deeper than the limit of 256 levels' }]);
  });

  it('accepts long floats and brackets, quotes and digits inside strings', () => {
    const text = `{"f":${'1'.repeat(5000)}.5,"s":"${'['.repeat(300)}\\"${'7'.repeat(5000)}"}\n`;
    const { rows, scanner } = scanText(text);
    expect(scanner.errorCount).toBe(0);
    expect(rows).toHaveLength(1);
  });
});
