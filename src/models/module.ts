// The module protocol: what every step of a Sentence Transformer's pipeline (a Transformer,
// StaticEmbedding, Pooling, Dense, Normalize, …) provides, whoever walks the pipeline
// (inference, training, export). A module maps features to features inside one graph:
//   ids → token embeddings (an input module), token embeddings → sentence embedding (pooling),
//   sentence embedding → sentence embedding (dense, normalise),
// reading its weights through a ParamSource (initializers for inference, graph inputs for
// training), and saves itself in the sentence-transformers layout.

import type { GraphBuilder } from '../graph/builder.js';
import type { Features } from './features.js';
import type { Param, ParamSource } from './params.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { StFormat } from './st_format.js';

/** How a module writes its folder: the sentence-transformers format (st_format.ts; default 'v3'). */
export interface ModuleSaveOptions {
  format?: StFormat;
}

/** What a module consumes and what it produces. */
export type FeatureKind = 'ids' | 'tokens' | 'sentence';

/**
 * A dropout site whose keep-mask is a graph input. Its shape, for a batch of n texts of s
 * tokens (r of them real): tokens3d [n, s, width], rows [n·s, width], packed [r, width] (the
 * real tokens in row order), attention [n, heads, s, s].
 */
export interface DropoutSite {
  name: string;
  p: number;
  layout: 'tokens3d' | 'rows' | 'packed' | 'attention';
  /** Last dimension of tokens3d, rows and packed masks (the module's hidden size). */
  width?: number;
  /** Heads of attention masks. */
  heads?: number;
}

/**
 * Training-mode dropout for one build. With `fedMasks` false, onnxruntime's Dropout draws the
 * masks (site k seeded by seed·1000 + k); with `fedMasks`, each site reads its keep-mask from a
 * graph input `dropout_mask_<k>` and is listed in `sites`, so the caller controls the
 * randomness. One instance is shared by every module of a build.
 */
export class DropoutMode {
  /** Sites with fed masks, in input order. */
  readonly sites: DropoutSite[] = [];
  private drawn = 0;

  constructor(readonly seed: number, readonly fedMasks: boolean) {}

  /** Seed of the next onnxruntime-drawn site. */
  nextSeed(): number {
    return (this.seed * 1000 + this.drawn++) % 2147483647;
  }
}

/**
 * How a graph is built. Inference: no dropout, Q/K/V fused into one projection with 1/√d
 * folded in. Training: dropout as given (null: off), separate projections (their gradients keep
 * the checkpoint's layout); `tokenRows` runs encoder layers on a [batch·seq, hidden] matrix
 * (default true); `packTokens` on the [real tokens, hidden] matrix, padding only around
 * attention (default true).
 */
export type BuildMode =
  | { kind: 'inference'; tokenRows?: boolean; packTokens?: boolean }
  | { kind: 'training'; dropout: DropoutMode | null; tokenRows?: boolean; packTokens?: boolean };

export const INFERENCE: BuildMode = { kind: 'inference' };

export interface Module {
  /** The type as modules.json spells it ("sentence_transformers.models.Pooling"). */
  readonly type: string;
  /** What the module reads. */
  readonly accepts: FeatureKind;
  /** What the module writes. */
  readonly produces: FeatureKind;
  /** Width of the input it expects, or null for any (ids, Normalize). */
  readonly inputDim: number | null;
  /** The config key that states inputDim ("in_features"), named in mismatch errors. */
  readonly inputDimKey?: string;
  /** Width of its output given the input's width. */
  outputDim(inputDim: number): number;
  /** Its weights by local name, Hugging Face layout (empty for weightless modules); named as a loss's `parameters()`. */
  parameters(): ReadonlyMap<string, Param>;
  /** The parameter that is a token table indexed by input_ids (frozen or updated sparsely in training). */
  readonly tokenTable?: string;
  /** Adds the module's computation to `g`. */
  build(g: GraphBuilder, params: ParamSource, features: Features, mode: BuildMode): Features;
  /** Writes the module's files into `dir` (created if missing), in `opts.format` (default 'v3'). */
  save(dir: string, opts?: ModuleSaveOptions): Promise<void>;
  /** Short description for `info` (merged into the model's). */
  describe?(): Record<string, unknown>;
}

/** An input module: turns token ids into token (or sentence) embeddings; the first of a pipeline. */
export interface InputModule extends Module {
  readonly accepts: 'ids';
  /** Width of its token embeddings. */
  readonly hiddenSize: number;
  /** Longest input in tokens. */
  readonly maxSeqLength: number;
  /** The longest input it can take at all (max_position_embeddings; Infinity when unbounded). */
  readonly maxPositions: number;
  parameterCount(): number;
  /** A copy with other settings (the length trained at; float32 files after training), sharing the weights. */
  with(s: InputModuleSettings): InputModule;
}

export interface InputModuleSettings {
  maxSeqLength?: number;
  /** Write every parameter as float32 on save, whatever dtype the file had. */
  saveFloat32?: boolean;
}

export function isInputModule(m: Module): m is InputModule {
  return m.accepts === 'ids';
}

/** A pipeline entry as modules.json lists it. */
export interface ModuleEntry {
  name: string;
  path: string;
  module: Module;
}

/** What a module loader gets: its folder, the model's, and what the user overrides. */
export interface ModuleLoadContext {
  /** The module's folder (the model folder joined with its modules.json path). */
  dir: string;
  /** The model folder. */
  modelDir: string;
  /** max_seq_length asked for by the caller (overrides the module's file). */
  maxSeqLength?: number;
  /** The modules loaded before this one. */
  previous: readonly Module[];
}

export interface LoadedModule {
  module: Module;
  /** An input module brings the tokenizer that feeds it. */
  tokenizer?: Tokenizer;
}

export type ModuleLoader = (ctx: ModuleLoadContext) => Promise<LoadedModule>;
