// The MPNet architecture (config.json model_type "mpnet": all-mpnet-base-v2,
// paraphrase-mpnet-base-v2, multi-qa-mpnet-*): config, parameter shapes and names, encoder.

import type { Architecture } from '../architecture.js';
import { mpnetConfigJson, mpnetRandomConfig, parseMPNetConfig, type MPNetConfig } from './config.js';
import { mpnetEncoder } from './encoder.js';
import { mpnetParamShapes, mpnetPoolerShapes, WORD_EMBEDDINGS } from './weights.js';

export const mpnet: Architecture<MPNetConfig> = {
  modelType: 'mpnet',
  hfClasses: ['MPNetModel', 'MPNetForMaskedLM', 'MPNetForSequenceClassification'],
  checkpointPrefixes: ['', 'mpnet.'],
  tokenTable: WORD_EMBEDDINGS,
  usesTokenTypes: false,
  parseConfig: parseMPNetConfig,
  configJson: mpnetConfigJson,
  paramShapes: mpnetParamShapes,
  extraShapes: mpnetPoolerShapes,
  maxTokens: (c) => c.maxPositionEmbeddings - c.padTokenId - 1,
  randomConfig: mpnetRandomConfig,
  encoder: mpnetEncoder,
};
