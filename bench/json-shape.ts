/**
 * Cost of the upload's row-shape check (nesting depth, integer length: domain/json-shape.ts)
 * next to the JSON.parse every uploaded line already pays, in CPU time of this process, for short
 * chat rows (~200 B) and long ones (~4 KB). Run: npx tsx bench/json-shape.ts
 */
import { jsonShapeProblem } from '../src/domain/json-shape.js';

function rowsOf(count: number, content: (i: number) => string): Buffer[] {
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: content(i) }, { role: 'assistant', content: 'a "quoted" \\ answer' }], ground_truth: i })),
  );
}

function cpuMs(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const sets = {
  short: rowsOf(200_000, (i) => `What is ${i} plus ${i % 97}? Answer briefly.`),
  long: rowsOf(20_000, (i) => `Q${i} ${'lorem ipsum dolor sit amet, '.repeat(150)}`),
};
for (const [name, rows] of Object.entries(sets)) {
  for (let round = 1; round <= 3; round++) {
    const parse = cpuMs(() => rows.forEach((buf) => JSON.parse(buf.toString('utf8'))));
    const check = cpuMs(() => rows.forEach((buf) => jsonShapeProblem(buf, 0, buf.length)));
    console.log(`${name} rows (${rows[0]!.length} B) round ${round}: decode+parse ${parse.toFixed(0)} ms, shape check ${check.toFixed(0)} ms, ratio ${(check / parse).toFixed(3)}`);
  }
}
