// DistilBERT's parameters by their Hugging Face names (DistilBertModel's state_dict, Linear
// weights [out, in]): embeddings.{word,position}_embeddings, embeddings.LayerNorm, and per
// layer transformer.layer.N.attention.{q,k,v,out}_lin, sa_layer_norm, ffn.lin1/lin2,
// output_layer_norm. A task head's checkpoint prefixes them with "distilbert.".

import { setLayerShapes, type LayerNames } from '../layers.js';
import type { DistilBertConfig } from './config.js';

export const DISTILBERT_PREFIXES = ['', 'distilbert.'] as const;

export const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight';

export function distilBertLayerNames(l: number): LayerNames {
  const p = `transformer.layer.${l}.`;
  return {
    query: `${p}attention.q_lin`,
    key: `${p}attention.k_lin`,
    value: `${p}attention.v_lin`,
    attentionOut: `${p}attention.out_lin`,
    attentionNorm: `${p}sa_layer_norm`,
    intermediate: `${p}ffn.lin1`,
    output: `${p}ffn.lin2`,
    outputNorm: `${p}output_layer_norm`,
  };
}

export function distilBertParamShapes(c: DistilBertConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const m = new Map<string, number[]>();
  m.set(WORD_EMBEDDINGS, [c.vocabSize, H]);
  m.set('embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, H]);
  m.set('embeddings.LayerNorm.weight', [H]);
  m.set('embeddings.LayerNorm.bias', [H]);
  for (let l = 0; l < c.numHiddenLayers; l++) {
    setLayerShapes(m, distilBertLayerNames(l), H, I);
  }
  return m;
}
