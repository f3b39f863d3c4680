// RoBERTa's encoder (Liu et al. 2019; XLM-RoBERTa is the same network), as graph ops: BERT's
// post-LN layers, with position ids counted over the non-padding tokens and offset past the
// padding index p, and no token types (type 0 always):
//   m = (ids ≠ p);  pos = cumsum(m)·m + p          (padding tokens get position p)
//   E = LayerNorm(word[ids] + position[pos] + token_type[0])
//   per layer: as BERT (attention with the (1 − mask)·min_f32 bias, W_o, LN, FFN, LN)
// The cumulative sum is a product with an upper-triangular matrix of ones, [B, S] · [S, S].
// Takes input_ids and attention_mask (int64 [batch, seq]) and gives token embeddings.

import type { GraphBuilder } from '../../../graph/builder.js';
import type { Value } from '../../../graph/ir.js';
import type { Features } from '../../features.js';
import type { ParamSource } from '../../params.js';
import type { EncoderOptions } from '../architecture.js';
import { bertLayerNames, WORD_EMBEDDINGS } from '../bert/weights.js';
import { dropout, postLnEncoder } from '../layers.js';
import type { RobertaConfig } from './config.js';

/** pos = cumsum(ids ≠ p)·(ids ≠ p) + p, int64 [B, S]. */
function positionIds(g: GraphBuilder, ids: Value, pad: number): Value {
  const m = g.cast(g.op1('Not', [g.equal(ids, g.scalar(pad, 'int64'))]), 'float32'); // [B, S]
  const s = g.squeeze(g.shapeOf(ids, 1, 2), [0]);
  const r = g.op1('Range', [g.scalar(0, 'int64'), s, g.scalar(1, 'int64')]); // [S]
  const upper = g.cast(g.greaterOrEqual(g.unsqueeze(r, [0]), g.unsqueeze(r, [1])), 'float32'); // [S, S]: j ≥ i
  const counts = g.mul(g.matMul(m, upper), m);
  return g.add(g.cast(counts, 'int64'), g.scalar(pad, 'int64'));
}

export function robertaEncoder(g: GraphBuilder, c: RobertaConfig, w: ParamSource, f: Features, opts: EncoderOptions): Value {
  const h0 = g.scope('embeddings', () => {
    const word = g.gather(w.tensor(WORD_EMBEDDINGS), f.inputIds);
    const pos = g.gather(w.tensor('embeddings.position_embeddings.weight'), positionIds(g, f.inputIds, c.padTokenId));
    const type0 = g.gather(w.tensor('embeddings.token_type_embeddings.weight'), g.scalar(0, 'int64'));
    const e = g.add(g.add(word, pos), type0);
    const ln = g.layerNorm(e, w.tensor('embeddings.LayerNorm.weight'), w.tensor('embeddings.LayerNorm.bias'), c.layerNormEps);
    return dropout(g, ln, c.hiddenDropoutProb, opts, 'tokens3d', c.hiddenSize, c.numAttentionHeads);
  });
  return postLnEncoder(g, c, w, f.inputIds, h0, f.attentionMask, opts, { names: bertLayerNames });
}
