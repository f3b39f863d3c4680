// The vector-index contract every backend implements (flat, the embedded ANN default, pgvector).
// An index stores, per string id, one vector of `dim` float32 numbers, optional metadata (a
// flat JSON object of string, number, boolean or null values) and an optional text; search
// returns each query's k best hits by the index's metric, best first:
//   cosine(q, v) = q·v / (‖q‖‖v‖)    dot(q, v) = q·v    (higher is better for both)
// Filters are evaluated against the metadata with the same semantics on every backend; a filter
// naming a field no stored document has is an error, not an empty result.

/** Row-major float32 vectors: `rows` rows of `dim` numbers. */
export interface Vectors {
  data: Float32Array;
  rows: number;
  dim: number;
}

export type MetadataValue = string | number | boolean | null;
export type Metadata = Record<string, MetadataValue>;

/**
 * A metadata filter:
 *   { field: value }                         equality (several keys: all must hold)
 *   { field: { $eq | $ne: value } }
 *   { field: { $in | $nin: [values] } }
 *   { field: { $gt | $gte | $lt | $lte: number } }  (several: a range)
 *   { $and: [filters] }   { $or: [filters] }
 */
export type Filter =
  | { $and: Filter[] }
  | { $or: Filter[] }
  | { [field: string]: MetadataValue | FieldCondition };

export interface FieldCondition {
  $eq?: MetadataValue;
  $ne?: MetadataValue;
  $in?: MetadataValue[];
  $nin?: MetadataValue[];
  $gt?: number;
  $gte?: number;
  $lt?: number;
  $lte?: number;
}

export type IndexMetric = 'cosine' | 'dot';

/** The model an index was built with; a query from another model is refused. */
export interface IndexModelInfo {
  name: string;
  dim: number;
  normalize: boolean;
  /** A hash of the weights (and the pipeline configuration). */
  fingerprint: string;
}

export interface Hit {
  id: string;
  score: number;
  text?: string;
  metadata?: Metadata;
}

export interface SearchOptions {
  filter?: Filter;
  /** Whether to return texts and metadata with the hits (default true). */
  includeDocuments?: boolean;
  /**
   * The model the queries were embedded with; the search is refused when the index records
   * another model (different fingerprint or dimension).
   */
  model?: IndexModelInfo;
}

export interface StoredDocument {
  id: string;
  vector: Float32Array;
  metadata?: Metadata;
  text?: string;
}

export interface IndexStats {
  backend: string;
  count: number;
  dim: number;
  metric: IndexMetric;
  model?: IndexModelInfo;
  /** Bytes on disk, where the backend keeps files. */
  diskBytes?: number;
  [key: string]: unknown;
}

export interface VectorIndex {
  readonly backend: string;
  readonly dim: number;
  readonly metric: IndexMetric;
  /** The model the index was built with, when known. */
  readonly model: IndexModelInfo | undefined;
  /** Inserts or replaces documents by id; all-or-nothing for the batch. */
  upsert(ids: string[], vectors: Vectors, metadata?: (Metadata | undefined)[], texts?: (string | undefined)[]): Promise<void>;
  /** Removes documents; returns how many existed. */
  remove(ids: string[]): Promise<number>;
  /** One list of hits per query row, best first, at most k each. */
  search(queries: Vectors, k: number, opts?: SearchOptions): Promise<Hit[][]>;
  /** The stored documents for these ids (undefined where absent), in the order asked. */
  get(ids: string[]): Promise<(StoredDocument | undefined)[]>;
  stats(): Promise<IndexStats>;
  /** Commits everything written so far (atomically, for the file-backed backends). */
  flush(): Promise<void>;
  /** Flushes and frees native resources. */
  close(): Promise<void>;
}
