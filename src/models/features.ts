// The values that flow between a Sentence Transformer's modules inside one graph, as in
// sentence-transformers' `features` dict: token ids and mask in, token embeddings from the
// encoder, the sentence embedding after pooling, dense layers and normalisation.

import type { Value } from '../graph/ir.js';

export interface Features {
  inputIds: Value;
  attentionMask: Value;
  tokenTypeIds: Value | null;
  /** Number of leading tokens (CLS + prompt) that pooling leaves out when include_prompt is false. */
  promptLength: Value | null;
  tokenEmbeddings?: Value;
  sentenceEmbedding?: Value;
}
