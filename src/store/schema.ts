import type { Generated } from 'kysely';

/** Kysely table types: the shape of every table, shared by the SQLite and PostgreSQL stores. */

export interface AccountsTable {
  id: string;
  display_name: string;
  create_time: string;
  update_time: string;
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
}

export interface RowSetsTable {
  id: Generated<number>;
  account_id: string;
  create_time: string;
}

export interface RowsTable {
  row_set_id: number;
  idx: number;
  data: string;
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

export interface Database {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  datasets: DatasetsTable;
  row_sets: RowSetsTable;
  rows: RowsTable;
  signed_urls: SignedUrlsTable;
  evaluators: EvaluatorsTable;
  blobs: BlobsTable;
  blob_chunks: BlobChunksTable;
}
