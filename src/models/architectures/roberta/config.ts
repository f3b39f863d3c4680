// RoBERTa's and XLM-RoBERTa's Hugging Face config.json (model_type "roberta" / "xlm-roberta"):
// BERT's keys (hidden_size, num_hidden_layers, …, layer_norm_eps from the file, 1e-5 in real
// checkpoints), with positions offset past the padding index: position ids start at
// pad_token_id + 1, so max_position_embeddings − pad_token_id − 1 tokens fit (514 → 512).

import { ModelFormatError, type JsonObject } from '../../json_file.js';
import type { RandomConfigOptions } from '../architecture.js';
import { bertConfigJson, parseBertConfig, type BertConfig } from '../bert/config.js';

export interface RobertaConfig extends Omit<BertConfig, 'modelType'> {
  modelType: 'roberta' | 'xlm-roberta';
}

export function parseRobertaConfig(obj: JsonObject, file: string, modelType: RobertaConfig['modelType']): RobertaConfig {
  const mt = obj.model_type ?? modelType;
  if (mt !== modelType) throw new ModelFormatError(`${file}: model_type "${String(mt)}" is not "${modelType}"`);
  const b = parseBertConfig({ layer_norm_eps: 1e-5, pad_token_id: 1, type_vocab_size: 1, ...obj, model_type: 'bert' }, file);
  if (b.maxPositionEmbeddings <= b.padTokenId + 1) {
    throw new ModelFormatError(`${file}: max_position_embeddings ${b.maxPositionEmbeddings} leaves no position past the padding index ${b.padTokenId}`);
  }
  return { ...b, modelType, raw: obj };
}

/** Tokens that fit: the positions after the padding index. */
export function robertaMaxTokens(c: RobertaConfig): number {
  return c.maxPositionEmbeddings - c.padTokenId - 1;
}

export function robertaConfigJson(c: RobertaConfig, className: string): JsonObject {
  return { ...bertConfigJson({ ...c, modelType: 'bert' }), architectures: c.raw.architectures ?? [className], model_type: c.modelType };
}

export function robertaRandomConfig(o: RandomConfigOptions, modelType: RobertaConfig['modelType'], className: string): JsonObject {
  return {
    architectures: [className],
    attention_probs_dropout_prob: 0.1,
    bos_token_id: 0,
    classifier_dropout: null,
    eos_token_id: 2,
    hidden_act: o.activation,
    hidden_dropout_prob: 0.1,
    hidden_size: o.hidden,
    initializer_range: 0.02,
    intermediate_size: o.intermediate,
    layer_norm_eps: 1e-5,
    // room for maxPositionEmbeddings tokens after the padding index
    max_position_embeddings: o.maxPositionEmbeddings + o.padTokenId + 1,
    model_type: modelType,
    num_attention_heads: o.heads,
    num_hidden_layers: o.layers,
    pad_token_id: o.padTokenId,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    type_vocab_size: 1,
    vocab_size: o.vocabSize,
  };
}
