// BERT's parameters by their Hugging Face names (BertModel's state_dict, Linear weights
// [out, in]); a checkpoint of a task head (BertForMaskedLM, …) prefixes them with "bert.".
// Our names are these names, so a checkpoint maps both ways by adding or removing the prefix.

import { setLayerShapes, type LayerNames } from '../layers.js';
import type { BertConfig } from './config.js';

export const BERT_PREFIXES = ['', 'bert.'] as const;

export const WORD_EMBEDDINGS = 'embeddings.word_embeddings.weight';

export function bertLayerNames(l: number): LayerNames {
  const p = `encoder.layer.${l}.`;
  return {
    query: `${p}attention.self.query`,
    key: `${p}attention.self.key`,
    value: `${p}attention.self.value`,
    attentionOut: `${p}attention.output.dense`,
    attentionNorm: `${p}attention.output.LayerNorm`,
    intermediate: `${p}intermediate.dense`,
    output: `${p}output.dense`,
    outputNorm: `${p}output.LayerNorm`,
  };
}

/** Parameter names and shapes a BertModel checkpoint must hold. */
export function bertParamShapes(c: BertConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const m = new Map<string, number[]>();
  m.set(WORD_EMBEDDINGS, [c.vocabSize, H]);
  m.set('embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, H]);
  m.set('embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]);
  m.set('embeddings.LayerNorm.weight', [H]);
  m.set('embeddings.LayerNorm.bias', [H]);
  for (let l = 0; l < c.numHiddenLayers; l++) {
    setLayerShapes(m, bertLayerNames(l), H, I);
  }
  return m;
}

/** BertModel's pooler (unused by sentence embeddings, kept so Python loads the folder without warnings). */
export function bertPoolerShapes(c: BertConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  return new Map([['pooler.dense.weight', [H, H]], ['pooler.dense.bias', [H]]]);
}
