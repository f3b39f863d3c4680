// The evaluation package: sentence-transformers-style evaluators (each `evaluate(model)` →
// metric map, with a `primaryMetric`), the metrics they are built from, embedding quantization
// and result formatting. Re-exports only (the option-checking helpers of base.ts stay internal).

export { embed, metricKey, prefixMetrics } from './base.js';
export type { EmbedOptions, EncodeMatrixOptions, Encoder, EvaluatorOptions, SentenceEvaluator } from './base.js';
export * from './metrics.js';
export * from './quantize.js';
export * from './topk.js';
export * from './embedding_similarity.js';
export * from './information_retrieval.js';
export * from './triplet.js';
export * from './binary_classification.js';
export * from './paraphrase_mining.js';
export * from './sequential.js';
export * from './format.js';
export * from './loss_evaluator.js';
