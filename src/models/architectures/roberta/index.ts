// The RoBERTa and XLM-RoBERTa architectures (config.json model_type "roberta": all-distilroberta,
// roberta-*-nli-stsb-mean-tokens, …; "xlm-roberta": paraphrase-multilingual-*, multilingual-e5-*):
// one network, two names; BERT's parameter names (a head's checkpoint prefixes "roberta." or
// "xlm-roberta.") and its pooler.

import type { Architecture } from '../architecture.js';
import { bertParamShapes, bertPoolerShapes, WORD_EMBEDDINGS } from '../bert/weights.js';
import { parseRobertaConfig, robertaConfigJson, robertaMaxTokens, robertaRandomConfig, type RobertaConfig } from './config.js';
import { robertaEncoder } from './encoder.js';

function family(modelType: RobertaConfig['modelType'], className: string, prefix: string, heads: string[]): Architecture<RobertaConfig> {
  return {
    modelType,
    hfClasses: [className, ...heads],
    checkpointPrefixes: ['', prefix],
    tokenTable: WORD_EMBEDDINGS,
    usesTokenTypes: false,
    parseConfig: (obj, file) => parseRobertaConfig(obj, file, modelType),
    configJson: (c) => robertaConfigJson(c, className),
    paramShapes: (c) => bertParamShapes({ ...c, modelType: 'bert' }),
    extraShapes: (c) => bertPoolerShapes({ ...c, modelType: 'bert' }),
    maxTokens: robertaMaxTokens,
    randomConfig: (o) => robertaRandomConfig(o, modelType, className),
    encoder: robertaEncoder,
  };
}

export const roberta = family('roberta', 'RobertaModel', 'roberta.', ['RobertaForMaskedLM', 'RobertaForSequenceClassification']);
export const xlmRoberta = family('xlm-roberta', 'XLMRobertaModel', 'roberta.', ['XLMRobertaForMaskedLM', 'XLMRobertaForSequenceClassification']);
