// What every route handler shares: the model and its embedder (tokenizer, limits, batcher),
// the request gate, the metrics, the served model's name and folder, and the index when one
// is served.

import type { SentenceTransformer } from '../models/sentence_transformer.js';
import type { IndexModelInfo, VectorIndex } from '../index/types.js';
import type { Embedder } from './embedder.js';
import type { RequestGate, ServeLimits } from './limits.js';
import type { ServeMetrics } from './metrics.js';

export interface ServeContext {
  model: SentenceTransformer;
  modelName: string;
  /** The model's folder (its README.md is the model card), when known. */
  modelDir?: string;
  embedder: Embedder;
  limits: ServeLimits;
  gate: RequestGate;
  metrics: ServeMetrics;
  index?: VectorIndex;
  /** The served model as the index records models (searches are checked against the index's). */
  indexModel?: IndexModelInfo;
}

/** Runs `fn` as one admitted request (429 when the gate is full), recording tokens embedded. */
export async function admitted<T>(ctx: ServeContext, fn: () => Promise<T>): Promise<T> {
  let leave: () => void;
  try {
    leave = ctx.gate.enter();
  } catch (e) {
    ctx.metrics.rejected.inc({ reason: 'overloaded' });
    throw e;
  }
  try {
    return await fn();
  } finally {
    leave();
  }
}
