/**
 * Throughput check for the dataset JSONL scanner: 1,000,000 generated chat rows of ~200 bytes,
 * fed in 64 KiB chunks as a file upload would arrive. Run: npx tsx bench/jsonl-scan.ts
 */
import { JsonlScanner } from '../src/domain/jsonl.js';

const ROWS = 1_000_000;
const CHUNK_BYTES = 64 * 1024;

function generate(rows: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    lines.push(
      JSON.stringify({
        messages: [
          { role: 'system', content: 'You are a helpful, concise assistant.' },
          { role: 'user', content: `What is ${i} plus ${i % 97}? Answer briefly.` },
          { role: 'assistant', content: `${i + (i % 97)}` },
        ],
      }),
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

function run(data: Buffer): { rows: number; seconds: number } {
  const scanner = new JsonlScanner();
  const started = process.hrtime.bigint();
  let rows = 0;
  for (let at = 0; at < data.length; at += CHUNK_BYTES) {
    rows += scanner.push(data.subarray(at, at + CHUNK_BYTES)).length;
  }
  rows += scanner.end().length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (scanner.errorCount !== 0) throw new Error(`unexpected errors: ${scanner.errorCount}`);
  return { rows, seconds };
}

const data = generate(ROWS);
console.log(`${ROWS} rows, ${(data.length / ROWS).toFixed(0)} bytes/row, ${data.length} bytes`);
for (let round = 1; round <= 3; round++) {
  const { rows, seconds } = run(data);
  const rate = Math.round(rows / seconds);
  const mb = (data.length / 1e6 / seconds).toFixed(0);
  console.log(`round ${round}: ${rate.toLocaleString('en')} rows/s (${mb} MB/s, ${seconds.toFixed(2)} s)`);
}
