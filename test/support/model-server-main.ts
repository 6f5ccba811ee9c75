/**
 * The suite's OpenAI-compatible model server (model-server.ts) as a process of its own, for the
 * Python compatibility tests: prints its base URL on the first line of stdout, serves until
 * SIGTERM. Deterministic answers ("What is 2 + 3?" -> "5").
 */
import { startModelServer } from './model-server.js';

const server = await startModelServer();
process.stdout.write(`${server.baseUrl}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
