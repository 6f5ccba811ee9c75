import type { Generated } from 'kysely';

/** Kysely table types: the shape of every table, shared by the SQLite and PostgreSQL stores. */

export interface AccountsTable {
  id: string;
  display_name: string;
  create_time: string;
  update_time: string;
  /** The SDK's Account requires it; '' when the operator gave none. */
  email: string;
}

export interface ApiKeysTable {
  account_id: string;
  id: string;
  display_name: string;
  role: string;
  key_hash: string;
  key_prefix: string;
  create_time: string;
}

export interface DatasetsTable {
  account_id: string;
  id: string;
  display_name: string;
  created_by: string;
  create_time: string;
  update_time: string;
  state: string;
  status_code: string;
  status_message: string;
  format: string;
  example_count: number;
  average_turn_count: number;
  estimated_token_count: number;
  /** JSON of DatasetOrigin. */
  origin: string;
  row_set_id: number | null;
  /** JSON array of the files the last :getUploadEndpoint registered; '' before any. */
  upload_files: string;
}

export interface RowSetsTable {
  id: Generated<number>;
  account_id: string;
  create_time: string;
  /** The row set a derived one reads its rows' unchanged parts from (a job's input). */
  base_row_set_id: number | null;
}

export interface RowsTable {
  row_set_id: number;
  idx: number;
  data: string;
}

export interface RowBlocksTable {
  row_set_id: number;
  first_idx: number;
  last_idx: number;
  ends: string;
  data: string;
  layout: Generated<string>;
}

export interface SignedUrlsTable {
  token_hash: string;
  account_id: string;
  purpose: string;
  target_kind: string;
  target_id: string;
  filename: string;
  size: number;
  expire_time: string;
  used_time: string;
  staged_row_set_id: number | null;
  staged_stats: string | null;
  staged_blob_id: string | null;
}

export interface EvaluatorsTable {
  account_id: string;
  id: string;
  flavour: string;
  display_name: string;
  description: string;
  created_by: string;
  create_time: string;
  update_time: string;
  state: string;
  status_code: string;
  status_message: string;
  /** JSON of EvaluatorSpec. */
  spec: string;
  source_blob_id: string | null;
  source_filename: string;
  build_generation: number;
  build_request_time: string;
  build_log_blob_id: string | null;
  build_dir: string;
  env_hash: string;
  /** '' until built; then pointwise, groupwise or all. */
  mode: string;
  /** JSON of DeclaredRollout (an eval-protocol entry point's), '' for none. */
  declared_rollout: string;
}

export interface BlobsTable {
  id: string;
  account_id: string;
  size: number;
  create_time: string;
}

export interface BlobChunksTable {
  blob_id: string;
  idx: number;
  data: Uint8Array;
}

export interface EvaluationJobsTable {
  account_id: string;
  id: string;
  display_name: string;
  created_by: string;
  create_time: string;
  update_time: string;
  state: string;
  status_code: string;
  status_message: string;
  evaluator_id: string;
  input_dataset_id: string;
  output_dataset_id: string;
  input_row_set_id: number;
  output_row_set_id: number;
  /** 1 once the evaluator is ACTIVE: workers lease chunks of runnable jobs only. */
  runnable: number;
  settings: string;
  rows_total: number;
  rows_done: number;
  rows_errored: number;
  /** Rollouts finished so far (jobs with a rollout step; rollouts of chunks that were leased again count again). */
  rollouts_done: number;
  start_time: string;
  end_time: string;
  /** metrics.score, kept as a column so leaderboards rank in SQL; 0 until there is one. */
  score: number;
  metrics: string;
  output_stats: string;
  leaderboard_ids: string;
  /** JSON of the job's awsS3Config as sent; '' when absent. */
  aws_s3_config: string;
}

export interface JobChunksTable {
  account_id: string;
  job_id: string;
  idx: number;
  start_idx: number;
  end_idx: number;
  state: string;
  lease_owner: string;
  lease_expire_time: string;
  attempts: number;
  /** The done chunk's results (repos/chunk-results.ts); '' before it is done. */
  results: Generated<string>;
}

export interface JobResultsTable {
  row_set_id: number;
  idx: number;
  score: number;
  is_valid: number;
  error_kind: string;
  ms: number;
  metrics: string;
}

export interface JobLogsTable {
  id: Generated<number>;
  account_id: string;
  job_id: string;
  time: string;
  text: string;
}

export interface LeaderboardsTable {
  account_id: string;
  id: string;
  display_name: string;
  description: string;
  create_time: string;
  update_time: string;
  source: string;
}

export interface LeaderboardJobsTable {
  account_id: string;
  leaderboard_id: string;
  job_id: string;
}

export interface SecretsTable {
  account_id: string;
  id: string;
  key_name: string;
  ciphertext: string;
  nonce: string;
  tag: string;
  create_time: string;
  update_time: string;
}

/** The OpenAI Evals face (migration 0017): wire documents as JSON, keyed for listing. */
export interface OpenAiEvalsTable {
  account_id: string;
  id: string;
  created_at: number;
  updated_at: number;
  evaluator_id: string;
  body: string;
}

export interface OpenAiEvalRunsTable {
  account_id: string;
  id: string;
  eval_id: string;
  created_at: number;
  job_id: string;
  body: string;
}

export interface Database {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  datasets: DatasetsTable;
  row_sets: RowSetsTable;
  rows: RowsTable;
  row_blocks: RowBlocksTable;
  signed_urls: SignedUrlsTable;
  evaluators: EvaluatorsTable;
  blobs: BlobsTable;
  blob_chunks: BlobChunksTable;
  evaluation_jobs: EvaluationJobsTable;
  job_chunks: JobChunksTable;
  job_results: JobResultsTable;
  job_logs: JobLogsTable;
  leaderboards: LeaderboardsTable;
  leaderboard_jobs: LeaderboardJobsTable;
  secrets: SecretsTable;
  openai_evals: OpenAiEvalsTable;
  openai_eval_runs: OpenAiEvalRunsTable;
}
