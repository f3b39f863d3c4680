// BERT's encoder (Devlin et al. 2019), as graph ops:
//   E = LayerNorm(word[ids] + position[0..S) + token_type[tt])         (dropout in training)
//   per layer:  A = softmax(Q Kᵀ / √d + (1 − mask)·min_f32) V          (per head, d = H / heads)
//               h = LayerNorm(h + A W_o + b_o)
//               h = LayerNorm(h + act(h W_i + b_i) W_2 + b_2)           (act: erf-GELU by default)
// Takes input_ids, attention_mask, token_type_ids (int64 [batch, seq]; no token types: type 0)
// and gives token embeddings [batch, seq, hidden].

import type { GraphBuilder } from '../../../graph/builder.js';
import type { Value } from '../../../graph/ir.js';
import type { Features } from '../../features.js';
import type { ParamSource } from '../../params.js';
import type { EncoderOptions } from '../architecture.js';
import { dropout, postLnEncoder } from '../layers.js';
import type { BertConfig } from './config.js';
import { bertLayerNames, WORD_EMBEDDINGS } from './weights.js';

export function bertEncoder(g: GraphBuilder, c: BertConfig, w: ParamSource, f: Features, opts: EncoderOptions): Value {
  const h0 = g.scope('embeddings', () => {
    const word = g.gather(w.tensor(WORD_EMBEDDINGS), f.inputIds);
    const seqLen = g.shapeOf(f.inputIds, 1, 2);
    const pos = g.slice(w.tensor('embeddings.position_embeddings.weight'), [0], seqLen, [0]);
    const types = w.tensor('embeddings.token_type_embeddings.weight');
    const tt = f.tokenTypeIds ? g.gather(types, f.tokenTypeIds) : g.gather(types, g.scalar(0, 'int64'));
    const e = g.add(g.add(word, pos), tt);
    const ln = g.layerNorm(e, w.tensor('embeddings.LayerNorm.weight'), w.tensor('embeddings.LayerNorm.bias'), c.layerNormEps);
    return dropout(g, ln, c.hiddenDropoutProb, opts, 'tokens3d', c.hiddenSize, c.numAttentionHeads);
  });
  return postLnEncoder(g, c, w, f.inputIds, h0, f.attentionMask, opts, { names: bertLayerNames });
}
