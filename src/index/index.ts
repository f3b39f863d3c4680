// The vector-index layer: one contract (VectorIndex), backends behind createIndex/openIndex
// (flat exact search, the usearch HNSW default, the ivf inverted file, pgvector), metadata filters, the model check.

export * from './types.js';
export { createIndex, openIndex, DEFAULT_BACKEND, BACKEND_NAMES, type CreateIndexOptions, type OpenIndexOptions } from './registry.js';
export { FilterError, validateFilter, matchesFilter, filterToSql, type FieldTypes, type MetadataType } from './filter.js';
export { IndexInputError } from './documents.js';
export { IndexCorruptError } from './segments.js';
export { ModelMismatchError, modelInfo, checkModel } from './model_info.js';
export { PgvectorError, redactConnection, type PgvectorOptions, type SqlClient } from './pgvector.js';
export type { UsearchOptions } from './usearch.js';
export type { IvfOptions } from './ivf.js';
export { ExactIndex, pairedCosine, type ExactIndexOptions, type SearchIndex, type SearchResult, type VectorBatch } from './exact_search.js';
export { semanticSearch, paraphraseMining, communityDetection, type SemanticSearchOptions, type SearchMatch, type ParaphraseMiningOptions, type CommunityOptions } from './util.js';
export { readCorpus, CorpusError, type CorpusDocument } from './corpus.js';
export { ingestCorpus, type IngestOptions, type IngestResult } from './ingest.js';
export { IndexLockedError } from './writer_lock.js';
