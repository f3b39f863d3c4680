// The architecture contract: what one encoder family (BERT, …) provides so that the generic
// Transformer module can load, build, initialise and save it. Each architecture lives in its own
// folder (config parser, parameter shapes and Hugging Face names, a pure encoder function) and
// is listed in registry.ts by its config.json `model_type` and `architectures` class names.

import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/ir.js';
import type { Features } from '../features.js';
import type { JsonObject } from '../json_file.js';
import type { DropoutMode } from '../module.js';
import type { ParamSource } from '../params.js';

export type HiddenAct = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'silu';

/** The activation names config.json may give (swish is read as silu). */
export const ACTS: readonly string[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu', 'swish'];

/** The sizes every encoder family has (an architecture's config extends it with its own). */
export interface EncoderConfig {
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: HiddenAct;
  maxPositionEmbeddings: number;
  layerNormEps: number;
  padTokenId: number;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  initializerRange: number;
  /** Every key of the file as read (written back on save). */
  raw: JsonObject;
}

export interface EncoderOptions {
  /** Fold 1/√d into the query projection and fuse Q/K/V into one MatMul (inference). */
  fuseQkv: boolean;
  /** Run the layers on tokens as rows of a 2-D matrix. */
  tokenRows: boolean;
  /** Run the row-wise work on the real (unpadded) tokens only, scattered to the padded layout around attention. */
  packTokens: boolean;
  /** Training dropout (null: off). */
  dropout: DropoutMode | null;
}

/** The sizes `create-model` asks for. */
export interface RandomConfigOptions {
  vocabSize: number;
  padTokenId: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositionEmbeddings: number;
  activation: string;
}

export interface Architecture<C extends EncoderConfig = EncoderConfig> {
  /** config.json's model_type. */
  readonly modelType: string;
  /** config.json's `architectures` class names this family loads (the first is written by `create`). */
  readonly hfClasses: readonly string[];
  /** Name prefixes a checkpoint may carry before our names ('' for the base model, 'bert.' for heads). */
  readonly checkpointPrefixes: readonly string[];
  /** The word-embedding table (indexed by input_ids). */
  readonly tokenTable: string;
  /** Whether the encoder reads token_type_ids. */
  readonly usesTokenTypes: boolean;
  parseConfig(obj: JsonObject, file: string): C;
  configJson(c: C): JsonObject;
  /** Every parameter the encoder reads, by its Hugging Face name (Linear weights [out, in]). */
  paramShapes(c: C): Map<string, number[]>;
  /** Tokens that fit (default max_position_embeddings; RoBERTa's positions start past the padding index). */
  maxTokens?(c: C): number;
  /** A config.json for a new random model. */
  randomConfig(o: RandomConfigOptions): JsonObject;
  /** Tensors a base model of this family carries that the encoder does not read (a pooler), for a random model. */
  extraShapes?(c: C): Map<string, number[]>;
  /** ids, mask (and token types) → token embeddings [batch, seq, hidden]. */
  encoder(g: GraphBuilder, cfg: C, weights: ParamSource, f: Features, opts: EncoderOptions): Value;
}
