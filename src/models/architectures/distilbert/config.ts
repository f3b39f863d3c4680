// DistilBERT's Hugging Face config.json (model_type "distilbert"): its own key names (dim,
// n_layers, n_heads, hidden_dim, activation, dropout, attention_dropout) read into the common
// encoder sizes, validated; LayerNorm eps is fixed at 1e-12 in DistilBertModel. The file's
// other keys are kept so a saved model carries them unchanged; and the config of a new model.

import { Fields, ModelFormatError, type JsonObject } from '../../json_file.js';
import { ACTS, type EncoderConfig, type HiddenAct, type RandomConfigOptions } from '../architecture.js';

export interface DistilBertConfig extends EncoderConfig {
  modelType: 'distilbert';
  sinusoidalPosEmbds: boolean;
}

export function parseDistilBertConfig(obj: JsonObject, file: string): DistilBertConfig {
  const f = new Fields(obj, file);
  const modelType = f.str('model_type', 'distilbert');
  if (modelType !== 'distilbert') throw new ModelFormatError(`${file}: model_type "${modelType}" is not "distilbert"`);
  let act = f.str('activation', 'gelu');
  if (!ACTS.includes(act)) throw new ModelFormatError(`${file}: activation "${act}" is not supported (supported: ${ACTS.join(', ')})`);
  if (act === 'swish') act = 'silu';
  const cfg: DistilBertConfig = {
    modelType: 'distilbert',
    vocabSize: f.int('vocab_size', undefined, 1),
    hiddenSize: f.int('dim', 768, 1),
    numHiddenLayers: f.int('n_layers', 6, 0),
    numAttentionHeads: f.int('n_heads', 12, 1),
    intermediateSize: f.int('hidden_dim', 3072, 1),
    hiddenAct: act as HiddenAct,
    maxPositionEmbeddings: f.int('max_position_embeddings', 512, 1),
    layerNormEps: 1e-12,
    padTokenId: f.int('pad_token_id', 0),
    hiddenDropoutProb: f.num('dropout', 0.1),
    attentionProbsDropoutProb: f.num('attention_dropout', 0.1),
    initializerRange: f.num('initializer_range', 0.02),
    sinusoidalPosEmbds: f.bool('sinusoidal_pos_embds', false),
    raw: obj,
  };
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    throw new ModelFormatError(`${file}: dim ${cfg.hiddenSize} is not a multiple of n_heads ${cfg.numAttentionHeads}`);
  }
  return cfg;
}

export function distilBertConfigJson(c: DistilBertConfig): JsonObject {
  return {
    ...c.raw,
    activation: c.hiddenAct,
    architectures: c.raw.architectures ?? ['DistilBertModel'],
    attention_dropout: c.attentionProbsDropoutProb,
    dim: c.hiddenSize,
    dropout: c.hiddenDropoutProb,
    hidden_dim: c.intermediateSize,
    initializer_range: c.initializerRange,
    max_position_embeddings: c.maxPositionEmbeddings,
    model_type: 'distilbert',
    n_heads: c.numAttentionHeads,
    n_layers: c.numHiddenLayers,
    pad_token_id: c.padTokenId,
    sinusoidal_pos_embds: c.sinusoidalPosEmbds,
    vocab_size: c.vocabSize,
  };
}

export function distilBertRandomConfig(o: RandomConfigOptions): JsonObject {
  return {
    activation: o.activation,
    architectures: ['DistilBertModel'],
    attention_dropout: 0.1,
    dim: o.hidden,
    dropout: 0.1,
    hidden_dim: o.intermediate,
    initializer_range: 0.02,
    max_position_embeddings: o.maxPositionEmbeddings,
    model_type: 'distilbert',
    n_heads: o.heads,
    n_layers: o.layers,
    pad_token_id: o.padTokenId,
    qa_dropout: 0.1,
    seq_classif_dropout: 0.2,
    sinusoidal_pos_embds: false,
    torch_dtype: 'float32',
    vocab_size: o.vocabSize,
  };
}
