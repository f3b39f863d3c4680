// SentenceKit's public API: models, tokenizers, training, losses, evaluation, data, and the
// graph and runtime layers everything is built on.

export { VERSION } from './version.js';

export { SentenceTransformer, type LoadOptions, type EncodeOptions, type EmbeddingMatrix, type CreateOptions, type SimilarityFn } from './models/sentence_transformer.js';
export { similarity, similarityPairwise, cosSim, dotScore, euclideanSim, manhattanSim, SIMILARITY_FNS, type Embeddings } from './models/similarity.js';
export { Pooling, POOLING_MODES, type PoolingMode } from './models/pooling.js';
export { Dense } from './models/dense.js';
export { Normalize } from './models/normalize.js';
export { Transformer, Transformer as BertTransformer } from './models/transformer.js';
export type { Module, InputModule, BuildMode } from './models/module.js';
export { StaticEmbedding, STATIC_EMBEDDING_TYPES } from './models/static_embedding.js';
export { DEFAULT_MODEL_NAME, defaultModelDir, resolveModelSpec } from './models/default_model.js';
export { architectureNames } from './models/architectures/registry.js';
export { readSafetensors, writeSafetensors, parseSafetensors, serializeSafetensors, SafetensorsError, type SafeTensor, type SafeDType } from './models/safetensors.js';
export { hubFile, snapshotDownload, hubCacheDir, isHubId, type HubOptions } from './models/hub.js';
export { ModelFormatError } from './models/json_file.js';
export { Tokenizer, type Batch, type EncodedText, type TokenizerOptions } from './tokenizers/index.js';
export { Trainer, NonFiniteLossError, type TrainerOptions, type TrainOutput, type TrainDataset, type TrainerCallback, type Evaluator } from './training/trainer.js';
export { resolveArgs, DEFAULT_ARGS, ConfigError, type TrainingArgs } from './training/args.js';
export { readTrainConfig, parseTrainConfig, type TrainConfig } from './training/config.js';
export { TrainingInterruptedError } from './training/interrupt.js';
export { FolderLockedError, LOCK_FILE } from './io/folder_lock.js';
export { OutputGuardError } from './io/output_guard.js';
export * from './losses/index.js';
export * from './evaluation/index.js';
export * as data from './data/index.js';
export * as graph from './graph/index.js';
export * as runtime from './runtime/index.js';
export * as mining from './mining/index.js';
export { exportModel, encodeCompact } from './export/index.js';
export * as vectorIndex from './index/index.js';
export { createIndex, openIndex, semanticSearch, paraphraseMining, communityDetection, type VectorIndex, type Filter, type Hit, type CreateIndexOptions, type OpenIndexOptions } from './index/index.js';
export { createServer, type Server, type ServerOptions } from './serve/app.js';
export { DEFAULT_LIMITS, type ServeLimits } from './serve/limits.js';
