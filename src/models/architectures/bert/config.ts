// BERT's Hugging Face config.json (model_type "bert"): the sizes the graph needs, validated,
// with the file's other keys kept so a saved model carries them unchanged; and the config of a
// new random BERT.

import { Fields, ModelFormatError, type JsonObject } from '../../json_file.js';
import { ACTS, type EncoderConfig, type HiddenAct, type RandomConfigOptions } from '../architecture.js';


export interface BertConfig extends EncoderConfig {
  modelType: 'bert';
  typeVocabSize: number;
}

export function parseBertConfig(obj: JsonObject, file: string): BertConfig {
  const f = new Fields(obj, file);
  const modelType = f.str('model_type', 'bert');
  if (modelType !== 'bert') {
    throw new ModelFormatError(`${file}: model_type "${modelType}" is not "bert"`);
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

export function bertRandomConfig(o: RandomConfigOptions): JsonObject {
  return {
    architectures: ['BertModel'],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    hidden_act: o.activation,
    hidden_dropout_prob: 0.1,
    hidden_size: o.hidden,
    initializer_range: 0.02,
    intermediate_size: o.intermediate,
    layer_norm_eps: 1e-12,
    max_position_embeddings: o.maxPositionEmbeddings,
    model_type: 'bert',
    num_attention_heads: o.heads,
    num_hidden_layers: o.layers,
    pad_token_id: o.padTokenId,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    type_vocab_size: 2,
    vocab_size: o.vocabSize,
  };
}
