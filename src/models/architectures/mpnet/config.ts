// MPNet's Hugging Face config.json (model_type "mpnet"): BERT's size keys, layer_norm_eps from
// the file (1e-5 in real checkpoints), relative_attention_num_buckets (32), no token types;
// positions offset past the padding index as RoBERTa's (514 positions → 512 tokens).

import { Fields, ModelFormatError, type JsonObject } from '../../json_file.js';
import type { RandomConfigOptions } from '../architecture.js';
import { bertConfigJson, parseBertConfig, type BertConfig } from '../bert/config.js';

export interface MPNetConfig extends Omit<BertConfig, 'modelType'> {
  modelType: 'mpnet';
  relativeAttentionNumBuckets: number;
}

export function parseMPNetConfig(obj: JsonObject, file: string): MPNetConfig {
  const mt = obj.model_type ?? 'mpnet';
  if (mt !== 'mpnet') throw new ModelFormatError(`${file}: model_type "${String(mt)}" is not "mpnet"`);
  const b = parseBertConfig({ layer_norm_eps: 1e-12, pad_token_id: 1, ...obj, model_type: 'bert' }, file);
  if (b.maxPositionEmbeddings <= b.padTokenId + 1) {
    throw new ModelFormatError(`${file}: max_position_embeddings ${b.maxPositionEmbeddings} leaves no position past the padding index ${b.padTokenId}`);
  }
  const buckets = new Fields(obj, file).int('relative_attention_num_buckets', 32, 2);
  return { ...b, modelType: 'mpnet', relativeAttentionNumBuckets: buckets, raw: obj };
}

export function mpnetConfigJson(c: MPNetConfig): JsonObject {
  const { type_vocab_size: _t, position_embedding_type: _p, ...rest } = bertConfigJson({ ...c, modelType: 'bert' });
  return { ...rest, architectures: c.raw.architectures ?? ['MPNetModel'], model_type: 'mpnet', relative_attention_num_buckets: c.relativeAttentionNumBuckets };
}

export function mpnetRandomConfig(o: RandomConfigOptions): JsonObject {
  return {
    architectures: ['MPNetModel'],
    attention_probs_dropout_prob: 0.1,
    bos_token_id: 0,
    eos_token_id: 2,
    hidden_act: o.activation,
    hidden_dropout_prob: 0.1,
    hidden_size: o.hidden,
    initializer_range: 0.02,
    intermediate_size: o.intermediate,
    layer_norm_eps: 1e-5,
    max_position_embeddings: o.maxPositionEmbeddings + o.padTokenId + 1,
    model_type: 'mpnet',
    num_attention_heads: o.heads,
    num_hidden_layers: o.layers,
    pad_token_id: o.padTokenId,
    relative_attention_num_buckets: 32,
    torch_dtype: 'float32',
    vocab_size: o.vocabSize,
  };
}
