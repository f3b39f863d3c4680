// The DistilBERT architecture (config.json model_type "distilbert": msmarco-distilbert-*,
// multi-qa-distilbert-*, …): its config parser, parameter shapes and names, and encoder.

import type { Architecture } from '../architecture.js';
import { distilBertConfigJson, distilBertRandomConfig, parseDistilBertConfig, type DistilBertConfig } from './config.js';
import { distilBertEncoder } from './encoder.js';
import { DISTILBERT_PREFIXES, distilBertParamShapes, WORD_EMBEDDINGS } from './weights.js';

export const distilbert: Architecture<DistilBertConfig> = {
  modelType: 'distilbert',
  hfClasses: ['DistilBertModel', 'DistilBertForMaskedLM', 'DistilBertForSequenceClassification'],
  checkpointPrefixes: DISTILBERT_PREFIXES,
  tokenTable: WORD_EMBEDDINGS,
  usesTokenTypes: false,
  parseConfig: parseDistilBertConfig,
  configJson: distilBertConfigJson,
  paramShapes: distilBertParamShapes,
  randomConfig: distilBertRandomConfig,
  encoder: distilBertEncoder,
};
