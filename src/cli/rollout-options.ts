/**
 * `tally job create` flags for a rollout step (docs/api.md, "Rollouts"): --model URL#MODEL names
 * the OpenAI-compatible endpoint and model; the others set the job's rollout fields.
 */
import type { Command } from 'commander';
import type { Json } from './api-client.js';

export function withRolloutOptions(command: Command): Command {
  return command
    .option('--model <url#model>', 'generate with a model before scoring: OpenAI-compatible base URL, "#", model name (e.g. http://gpu:8000/v1#llama-3-8b)')
    .option('--runs <k>', 'independent rollouts per row (pass@1..k in the metrics)')
    .option('--api-key-secret <keyName>', 'account secret sent to the endpoint as the bearer token')
    .option('--temperature <t>', 'sampling temperature')
    .option('--max-tokens <n>', 'completion token limit')
    .option('--seed <n>', 'seed of run 0 (run r gets seed + r)')
    .option('--max-concurrent-rollouts <n>', 'requests in flight at once per worker (default 96)')
    .option('--pass-threshold <score>', 'a row passes at this score or above, for pass@k (default 1)');
}

/** The job's `rollout` from the flags; undefined when none was given. Throws a message naming the flag. */
export function rolloutFromOptions(options: Record<string, unknown>): Json | undefined {
  const number = (flag: string, key: string, integer = false): number | undefined => {
    const text = options[key] as string | undefined;
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) throw new Error(`--${flag}: expected ${integer ? 'an integer' : 'a number'}, got "${text}"`);
    return value;
  };
  const params: Json = {};
  const put = (target: Json, key: string, value: unknown) => value !== undefined && (target[key] = value);
  put(params, 'temperature', number('temperature', 'temperature'));
  put(params, 'max_tokens', number('max-tokens', 'maxTokens', true));
  put(params, 'seed', number('seed', 'seed', true));
  const rollout: Json = {};
  const model = options['model'] as string | undefined;
  if (model !== undefined) {
    const at = model.lastIndexOf('#');
    if (at <= 0 || at === model.length - 1) throw new Error(`--model: expected URL#MODEL (e.g. http://gpu:8000/v1#llama-3-8b), got "${model}"`);
    Object.assign(rollout, { baseUrl: model.slice(0, at), model: model.slice(at + 1) });
  }
  put(rollout, 'numRuns', number('runs', 'runs', true));
  put(rollout, 'apiKeySecret', options['apiKeySecret']);
  put(rollout, 'maxConcurrentRollouts', number('max-concurrent-rollouts', 'maxConcurrentRollouts', true));
  put(rollout, 'passThreshold', number('pass-threshold', 'passThreshold'));
  if (Object.keys(params).length > 0) rollout['completionParams'] = params;
  return Object.keys(rollout).length > 0 ? rollout : undefined;
}

/** pass@k, the runs' spread and the rollout figures, for the metrics table. */
export function rolloutMetricRows(metrics: Record<string, number>): [string, string][] {
  const rows: [string, string][] = [];
  const runs = metrics['num_runs'];
  if (runs === undefined) return rows;
  for (let k = 1; k <= runs; k++) if (metrics[`pass@${k}`] !== undefined) rows.push([`pass@${k}`, String(round(metrics[`pass@${k}`]!))]);
  if (metrics['score_run_std'] !== undefined) rows.push(['score spread across runs (std)', String(round(metrics['score_run_std']))]);
  rows.push(['rollouts errored', String(metrics['rollout_error_count'] ?? 0)], ['tokens (prompt + completion)', `${metrics['rollout_prompt_tokens'] ?? 0} + ${metrics['rollout_completion_tokens'] ?? 0}`]);
  if (metrics['rollout_latency_p50_ms'] !== undefined) rows.push(['rollout latency p50 / p95', `${Math.round(metrics['rollout_latency_p50_ms'])} / ${Math.round(metrics['rollout_latency_p95_ms'] ?? 0)} ms`]);
  return rows;
}

const round = (v: number) => Math.round(v * 10_000) / 10_000;
