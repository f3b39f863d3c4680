// The Hugging Face config.json of a BERT-family encoder: the sizes the graph needs, validated,
// with the file's other keys kept so a saved model carries them unchanged.

import { Fields, ModelFormatError, type JsonObject } from './json_file.js';

export type HiddenAct = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'silu';
const ACTS: readonly string[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu', 'swish'];

export interface BertConfig {
  modelType: 'bert';
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: HiddenAct;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  initializerRange: number;
  /** Every key of the file as read (written back on save). */
  raw: JsonObject;
}

export function parseBertConfig(obj: JsonObject, file: string): BertConfig {
  const f = new Fields(obj, file);
  const modelType = f.str('model_type', 'bert');
  if (modelType !== 'bert') {
    throw new ModelFormatError(`${file}: model_type "${modelType}" is not supported yet (supported: bert; BERT-architecture models such as all-MiniLM-L6-v2, bge, e5, gte)`);
  }
  const pe = f.str('position_embedding_type', 'absolute');
  if (pe !== 'absolute') throw new ModelFormatError(`${file}: position_embedding_type "${pe}" is not supported (only "absolute")`);
  let act = f.str('hidden_act', 'gelu');
  if (!ACTS.includes(act)) throw new ModelFormatError(`${file}: hidden_act "${act}" is not supported (supported: ${ACTS.join(', ')})`);
  if (act === 'swish') act = 'silu';
  const cfg: BertConfig = {
    modelType: 'bert',
    vocabSize: f.int('vocab_size', undefined, 1),
    hiddenSize: f.int('hidden_size', undefined, 1),
    numHiddenLayers: f.int('num_hidden_layers', undefined, 0),
    numAttentionHeads: f.int('num_attention_heads', undefined, 1),
    intermediateSize: f.int('intermediate_size', undefined, 1),
    hiddenAct: act as HiddenAct,
    maxPositionEmbeddings: f.int('max_position_embeddings', 512, 1),
    typeVocabSize: f.int('type_vocab_size', 2, 1),
    layerNormEps: f.num('layer_norm_eps', 1e-12),
    padTokenId: f.int('pad_token_id', 0),
    hiddenDropoutProb: f.num('hidden_dropout_prob', 0.1),
    attentionProbsDropoutProb: f.num('attention_probs_dropout_prob', 0.1),
    initializerRange: f.num('initializer_range', 0.02),
    raw: obj,
  };
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    throw new ModelFormatError(`${file}: hidden_size ${cfg.hiddenSize} is not a multiple of num_attention_heads ${cfg.numAttentionHeads}`);
  }
  return cfg;
}

export function bertConfigJson(c: BertConfig): JsonObject {
  return {
    ...c.raw,
    architectures: c.raw.architectures ?? ['BertModel'],
    attention_probs_dropout_prob: c.attentionProbsDropoutProb,
    hidden_act: c.hiddenAct,
    hidden_dropout_prob: c.hiddenDropoutProb,
    hidden_size: c.hiddenSize,
    initializer_range: c.initializerRange,
    intermediate_size: c.intermediateSize,
    layer_norm_eps: c.layerNormEps,
    max_position_embeddings: c.maxPositionEmbeddings,
    model_type: 'bert',
    num_attention_heads: c.numAttentionHeads,
    num_hidden_layers: c.numHiddenLayers,
    pad_token_id: c.padTokenId,
    position_embedding_type: 'absolute',
    type_vocab_size: c.typeVocabSize,
    vocab_size: c.vocabSize,
  };
}

/** Parameter names and shapes a BertModel checkpoint must hold (Linear weights are [out, in]). */
export function bertParamShapes(c: BertConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const m = new Map<string, number[]>();
  m.set('embeddings.word_embeddings.weight', [c.vocabSize, H]);
  m.set('embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, H]);
  m.set('embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]);
  m.set('embeddings.LayerNorm.weight', [H]);
  m.set('embeddings.LayerNorm.bias', [H]);
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['query', 'key', 'value']) {
      m.set(`${p}attention.self.${n}.weight`, [H, H]);
      m.set(`${p}attention.self.${n}.bias`, [H]);
    }
    m.set(`${p}attention.output.dense.weight`, [H, H]);
    m.set(`${p}attention.output.dense.bias`, [H]);
    m.set(`${p}attention.output.LayerNorm.weight`, [H]);
    m.set(`${p}attention.output.LayerNorm.bias`, [H]);
    m.set(`${p}intermediate.dense.weight`, [I, H]);
    m.set(`${p}intermediate.dense.bias`, [I]);
    m.set(`${p}output.dense.weight`, [H, I]);
    m.set(`${p}output.dense.bias`, [H]);
    m.set(`${p}output.LayerNorm.weight`, [H]);
    m.set(`${p}output.LayerNorm.bias`, [H]);
  }
  return m;
}
