// DistilBERT's encoder (Sanh et al. 2019), as graph ops: BERT's post-LN layers without token
// types (and without a pooler):
//   E = LayerNorm(word[ids] + position[0..S))                          (dropout in training)
//   per layer:  A = softmax(Q Kᵀ / √d + (1 − mask)·min_f32) V          (per head)
//               h = LayerNorm(h + A W_o + b_o)                          (sa_layer_norm)
//               h = LayerNorm(h + act(h W_1 + b_1) W_2 + b_2)           (output_layer_norm)
// Takes input_ids and attention_mask (int64 [batch, seq]; token_type_ids is not read) and
// gives token embeddings [batch, seq, hidden].

import type { GraphBuilder } from '../../../graph/builder.js';
import type { Value } from '../../../graph/ir.js';
import type { Features } from '../../features.js';
import type { ParamSource } from '../../params.js';
import type { EncoderOptions } from '../architecture.js';
import { dropout, postLnEncoder } from '../layers.js';
import type { DistilBertConfig } from './config.js';
import { distilBertLayerNames, WORD_EMBEDDINGS } from './weights.js';

export function distilBertEncoder(g: GraphBuilder, c: DistilBertConfig, w: ParamSource, f: Features, opts: EncoderOptions): Value {
  const h0 = g.scope('embeddings', () => {
    const word = g.gather(w.tensor(WORD_EMBEDDINGS), f.inputIds);
    const seqLen = g.shapeOf(f.inputIds, 1, 2);
    const pos = g.slice(w.tensor('embeddings.position_embeddings.weight'), [0], seqLen, [0]);
    const ln = g.layerNorm(g.add(word, pos), w.tensor('embeddings.LayerNorm.weight'), w.tensor('embeddings.LayerNorm.bias'), c.layerNormEps);
    return dropout(g, ln, c.hiddenDropoutProb, opts, 'tokens3d', c.hiddenSize, c.numAttentionHeads);
  });
  return postLnEncoder(g, c, w, f.inputIds, h0, f.attentionMask, opts, { names: distilBertLayerNames });
}
