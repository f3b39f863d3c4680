// The BERT architecture (config.json model_type "bert": all-MiniLM-L6-v2, bge, e5, gte, …):
// its config parser, parameter shapes and names, and encoder, as one registry entry.

import type { Architecture } from '../architecture.js';
import { bertConfigJson, bertRandomConfig, parseBertConfig, type BertConfig } from './config.js';
import { bertEncoder } from './encoder.js';
import { BERT_PREFIXES, bertParamShapes, bertPoolerShapes, WORD_EMBEDDINGS } from './weights.js';

export const bert: Architecture<BertConfig> = {
  modelType: 'bert',
  hfClasses: ['BertModel', 'BertForMaskedLM', 'BertForPreTraining', 'BertForSequenceClassification'],
  checkpointPrefixes: BERT_PREFIXES,
  tokenTable: WORD_EMBEDDINGS,
  usesTokenTypes: true,
  parseConfig: parseBertConfig,
  configJson: bertConfigJson,
  paramShapes: bertParamShapes,
  extraShapes: bertPoolerShapes,
  randomConfig: bertRandomConfig,
  encoder: bertEncoder,
};
