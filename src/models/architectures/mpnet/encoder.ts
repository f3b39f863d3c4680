// MPNet's encoder (Song et al. 2020), as graph ops: RoBERTa's embeddings (positions counted
// over non-padding tokens, offset past the padding index p; no token types) and BERT's post-LN
// layers, with one relative-position bias shared by every layer:
//   b(i, j) = R[bucket(j − i)]            R = relative_attention_bias [buckets, heads]
//   bucket(r): T5's bidirectional buckets (half per direction; exact below 8 = buckets/4,
//              logarithmic up to distance 128), as transformers' relative_position_bucket
//   A = softmax(Q Kᵀ / √d + b + (1 − mask)·min_f32) V
// The bucket of every relative distance a sequence can have is a constant table (computed in
// float32 as torch does), gathered by j − i. Takes input_ids and attention_mask.

import type { GraphBuilder } from '../../../graph/builder.js';
import type { Value } from '../../../graph/ir.js';
import type { Features } from '../../features.js';
import type { ParamSource } from '../../params.js';
import type { EncoderOptions } from '../architecture.js';
import { dropout, postLnEncoder } from '../layers.js';
import type { MPNetConfig } from './config.js';
import { mpnetLayerNames, RELATIVE_BIAS, WORD_EMBEDDINGS } from './weights.js';

/** transformers' MPNet relative_position_bucket, with torch's float32 steps. */
export function relativePositionBucket(rel: number, numBuckets: number, maxDistance = 128): number {
  const f = Math.fround;
  let n = -rel;
  const nb = Math.floor(numBuckets / 2);
  const ret = n < 0 ? nb : 0;
  n = Math.abs(n);
  const maxExact = Math.floor(nb / 2);
  if (n < maxExact) return ret + n;
  const v = f(f(f(Math.log(f(f(n) / maxExact))) / f(Math.log(maxDistance / maxExact))) * (nb - maxExact));
  return ret + Math.min(maxExact + Math.trunc(v), nb - 1);
}

/** pos = cumsum(ids ≠ p)·(ids ≠ p) + p, int64 [B, S]. */
function positionIds(g: GraphBuilder, ids: Value, pad: number): Value {
  const m = g.cast(g.op1('Not', [g.equal(ids, g.scalar(pad, 'int64'))]), 'float32');
  const s = g.squeeze(g.shapeOf(ids, 1, 2), [0]);
  const r = g.op1('Range', [g.scalar(0, 'int64'), s, g.scalar(1, 'int64')]);
  const upper = g.cast(g.greaterOrEqual(g.unsqueeze(r, [0]), g.unsqueeze(r, [1])), 'float32');
  return g.add(g.cast(g.mul(g.matMul(m, upper), m), 'int64'), g.scalar(pad, 'int64'));
}

/** The shared bias [1, heads, S, S]. */
function relativeBias(g: GraphBuilder, c: MPNetConfig, w: ParamSource, ids: Value): Value {
  const P = c.maxPositionEmbeddings;
  const table = new BigInt64Array(2 * P - 1);
  for (let k = 0; k < table.length; k++) table[k] = BigInt(relativePositionBucket(k - (P - 1), c.relativeAttentionNumBuckets));
  const buckets = g.constant({ dtype: 'int64', dims: [2 * P - 1], data: table });
  const s = g.squeeze(g.shapeOf(ids, 1, 2), [0]);
  const r = g.op1('Range', [g.scalar(0, 'int64'), s, g.scalar(1, 'int64')]);
  const rel = g.sub(g.unsqueeze(r, [0]), g.unsqueeze(r, [1])); // [S, S]: j − i
  const b = g.gather(buckets, g.add(rel, g.scalar(P - 1, 'int64')));
  const values = g.gather(w.tensor(RELATIVE_BIAS), b); // [S, S, heads]
  return g.unsqueeze(g.transpose(values, [2, 0, 1]), [0]);
}

export function mpnetEncoder(g: GraphBuilder, c: MPNetConfig, w: ParamSource, f: Features, opts: EncoderOptions): Value {
  const h0 = g.scope('embeddings', () => {
    const word = g.gather(w.tensor(WORD_EMBEDDINGS), f.inputIds);
    const pos = g.gather(w.tensor('embeddings.position_embeddings.weight'), positionIds(g, f.inputIds, c.padTokenId));
    const ln = g.layerNorm(g.add(word, pos), w.tensor('embeddings.LayerNorm.weight'), w.tensor('embeddings.LayerNorm.bias'), c.layerNormEps);
    return dropout(g, ln, c.hiddenDropoutProb, opts, 'tokens3d', c.hiddenSize, c.numAttentionHeads);
  });
  const bias = g.scope('relative_attention_bias', () => relativeBias(g, c, w, f.inputIds));
  return postLnEncoder(g, c, w, f.inputIds, h0, f.attentionMask, opts, { names: mpnetLayerNames, attentionBias: () => bias });
}
