// MPNet's parameters by their Hugging Face names (MPNetModel's state_dict, Linear weights
// [out, in]): embeddings.{word,position}_embeddings, embeddings.LayerNorm; per layer
// encoder.layer.N.attention.attn.{q,k,v,o}, attention.LayerNorm, intermediate.dense,
// output.dense, output.LayerNorm; encoder.relative_attention_bias [buckets, heads], shared by
// every layer; and a pooler. A task head's checkpoint prefixes them with "mpnet.".

import { setLayerShapes, type LayerNames } from '../layers.js';
import type { MPNetConfig } from './config.js';

export const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight';
export const RELATIVE_BIAS = 'encoder.relative_attention_bias.weight';

export function mpnetLayerNames(l: number): LayerNames {
  const p = `encoder.layer.${l}.`;
  return {
    query: `${p}attention.attn.q`,
    key: `${p}attention.attn.k`,
    value: `${p}attention.attn.v`,
    attentionOut: `${p}attention.attn.o`,
    attentionNorm: `${p}attention.LayerNorm`,
    intermediate: `${p}intermediate.dense`,
    output: `${p}output.dense`,
    outputNorm: `${p}output.LayerNorm`,
  };
}

export function mpnetParamShapes(c: MPNetConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const m = new Map<string, number[]>();
  m.set(WORD_EMBEDDINGS, [c.vocabSize, H]);
  m.set('embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, H]);
  m.set('embeddings.LayerNorm.weight', [H]);
  m.set('embeddings.LayerNorm.bias', [H]);
  for (let l = 0; l < c.numHiddenLayers; l++) {
    setLayerShapes(m, mpnetLayerNames(l), H, I);
  }
  m.set(RELATIVE_BIAS, [c.relativeAttentionNumBuckets, c.numAttentionHeads]);
  return m;
}

export function mpnetPoolerShapes(c: MPNetConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  return new Map([['pooler.dense.weight', [H, H]], ['pooler.dense.bias', [H]]]);
}
