/**
 * The test model server as a process, for tests outside vitest (test/compat): prints its base URL
 * on the first line of stdout, and appends every request it receives to the JSONL file named by
 * the first argument. `npx tsx test/support/model-server-main.ts requests.jsonl [latencyMs]`.
 */
import { appendFileSync } from 'node:fs';
import { startModelServer } from './model-server.js';

const [file, latency] = process.argv.slice(2);
if (!file) throw new Error('usage: model-server-main.ts <requests.jsonl> [latencyMs]');
const model = await startModelServer({ latencyMs: Number(latency ?? 0) });
const push = model.requests.push.bind(model.requests);
model.requests.push = (...recorded) => {
  for (const request of recorded) appendFileSync(file, JSON.stringify({ ...request, headers: { authorization: request.headers['authorization'] ?? null } }) + '\n');
  return push(...recorded);
};
console.log(model.baseUrl);
process.on('SIGTERM', () => void model.close().then(() => process.exit(0)));
