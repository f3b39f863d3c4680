// sentence-transformers' StaticEmbedding module: a token-embedding table E [vocab, dim] averaged
// over a text's token ids, as torch's EmbeddingBag in mean mode:
//   sentence_embedding = (1 / max(n, 1)) · Σ_{i < n} E[id_i]      (an empty text gives zeros)
// The ids come from the module's tokenizer.json without special tokens, truncated as that file's
// `truncation` says (no limit without one). Takes input_ids and attention_mask (int64 [batch, seq],
// right-padded) and gives the sentence embedding [batch, dim] and the token rows [batch, seq, dim].
// Files: <path>/model.safetensors with `embedding.weight` (model2vec's `embeddings` read too) and
// <path>/tokenizer.json; modules.json type sentence_transformers.models.StaticEmbedding (v3–v5;
// v6 writes sentence_transformers.sentence_transformer.modules.static_embedding.StaticEmbedding).

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphBuilder } from '../graph/builder.js';
import type { Features } from './features.js';
import { Rng } from './init.js';
import { ModelFormatError } from './json_file.js';
import type { BuildMode, InputModule, InputModuleSettings, LoadedModule, ModuleLoadContext, ModuleSaveOptions } from './module.js';
import type { Param, ParamSource } from './params.js';
import { Tokenizer } from '../tokenizers/tokenizer.js';
import { floatTensor, toFloat32, type SafeDType } from './safetensors.js';
import { readWeightsFile, writeWeightsFile } from './weights_file.js';

/** modules.json types that name this module (sentence-transformers v3–v6). */
export const STATIC_EMBEDDING_TYPES: readonly string[] = [
  'sentence_transformers.models.StaticEmbedding',
  'sentence_transformers.models.StaticEmbedding.StaticEmbedding',
  'sentence_transformers.sentence_transformer.modules.StaticEmbedding',
  'sentence_transformers.sentence_transformer.modules.static_embedding.StaticEmbedding',
];

/** The table's name in model.safetensors (sentence-transformers) and in training graphs. */
export const STATIC_TABLE = 'embedding.weight';
/** The table's name in a model2vec model.safetensors. */
export const MODEL2VEC_TABLE = 'embeddings';

/** Effective "no limit" on a text's token count when tokenizer.json sets no truncation. */
export const UNLIMITED_TOKENS = 1_000_000;

export class StaticEmbedding implements InputModule {
  readonly type = 'sentence_transformers.models.StaticEmbedding';
  readonly accepts = 'ids' as const;
  readonly produces = 'sentence' as const;
  readonly inputDim = null;
  readonly tokenTable = STATIC_TABLE;
  /** No position embeddings: any length. */
  readonly maxPositions = Infinity;
  /** The dtype each parameter is written in (the file's on load; F32 after training); set 'F16' to save a half-size table. */
  readonly fileDtypes: Map<string, SafeDType>;

  constructor(
    /** [vocab, dim] */
    readonly weight: Param,
    /** Content tokens kept per text (tokenizer.json truncation.max_length). */
    readonly maxSeqLength: number = UNLIMITED_TOKENS,
    fileDtype: SafeDType = 'F32',
  ) {
    if (weight.shape.length !== 2 || weight.data.length !== weight.shape[0] * weight.shape[1]) {
      throw new ModelFormatError(`StaticEmbedding: the table must be [vocab, dim], got [${weight.shape.join(', ')}] with ${weight.data.length} values`);
    }
    this.fileDtypes = new Map([[STATIC_TABLE, fileDtype]]);
  }

  /** A copy with another length or saved as float32, sharing the table. */
  with(s: InputModuleSettings): StaticEmbedding {
    return new StaticEmbedding(this.weight, s.maxSeqLength ?? this.maxSeqLength, s.saveFloat32 ? 'F32' : this.fileDtypes.get(STATIC_TABLE));
  }

  parameters(): ReadonlyMap<string, Param> {
    return this.params;
  }

  describe(): Record<string, unknown> {
    return { architecture: 'StaticEmbedding', vocab_size: this.vocabSize };
  }

  get vocabSize(): number {
    return this.weight.shape[0];
  }

  /** Width of the table, which is the sentence embedding's dimension. */
  get hiddenSize(): number {
    return this.weight.shape[1];
  }

  outputDim(): number {
    return this.weight.shape[1];
  }

  parameterCount(): number {
    return this.weight.data.length;
  }

  /** Parameters by name (the name as sentence-transformers' state dict has it). */
  get params(): Map<string, Param> {
    return new Map([[STATIC_TABLE, this.weight]]);
  }

  param(name: string): Param {
    if (name !== STATIC_TABLE) throw new Error(`StaticEmbedding: no parameter ${name}`);
    return this.weight;
  }

  /** A table of N(0, 1) values, as torch.nn.EmbeddingBag initialises one. */
  static random(vocabSize: number, dim: number, seed: number, maxSeqLength?: number): StaticEmbedding {
    const data = new Rng(seed).fillNormal(new Float32Array(vocabSize * dim), 1);
    return new StaticEmbedding({ shape: [vocabSize, dim], data }, maxSeqLength);
  }

  /**
   * Reads <dir>/model.safetensors (`embedding.weight`, or model2vec's `embeddings`) and the
   * truncation length from <dir>/tokenizer.json. `vocabSize` is the tokenizer's.
   */
  static async load(dir: string, vocabSize: number): Promise<StaticEmbedding> {
    const file = await readWeightsFile(dir); // model.safetensors, else pytorch_model.bin
    const st = file.path;
    const key = file.tensors.has(STATIC_TABLE) ? STATIC_TABLE : file.tensors.has(MODEL2VEC_TABLE) ? MODEL2VEC_TABLE : null;
    if (!key) {
      throw new ModelFormatError(`${st}: no tensor "${STATIC_TABLE}" (sentence-transformers) or "${MODEL2VEC_TABLE}" (model2vec); found ${[...file.tensors.keys()].join(', ') || 'none'}`);
    }
    for (const k of ['weights', 'mapping']) {
      if (file.tensors.has(k)) throw new ModelFormatError(`${st}: tensor "${k}" (a model2vec vocabulary-quantised model) is not supported; save the model with plain per-token embeddings`);
    }
    const t = file.tensors.get(key)!;
    if (t.shape.length !== 2) throw new ModelFormatError(`${st}: tensor "${key}" has shape [${t.shape.join(', ')}]; a [vocab, dim] table was expected`);
    if (t.shape[0] !== vocabSize) {
      throw new ModelFormatError(`${st}: tensor "${key}" has ${t.shape[0]} rows but ${join(dir, 'tokenizer.json')} has ${vocabSize} tokens; the table and the tokenizer do not belong together`);
    }
    const fileDtype = t.dtype === 'F16' || t.dtype === 'BF16' ? t.dtype : 'F32';
    return new StaticEmbedding({ shape: [...t.shape], data: toFloat32(t, `${st}: ${key}`) }, await truncationLength(join(dir, 'tokenizer.json')), fileDtype);
  }

  /** Writes model.safetensors (pytorch_model.bin for 'v2'; `embedding.weight` in its file dtype); the caller writes tokenizer.json. */
  async save(dir: string, opts: ModuleSaveOptions = {}): Promise<void> {
    const t = floatTensor(this.weight.data, this.weight.shape, this.fileDtypes.get(STATIC_TABLE) ?? 'F32');
    await writeWeightsFile(dir, new Map([[STATIC_TABLE, t]]), opts.format === 'v2' ? 'pytorch' : 'safetensors');
  }

  /** Adds the lookup and the masked mean to `g`; sets features.tokenEmbeddings and sentenceEmbedding. */
  build(g: GraphBuilder, src: ParamSource, f: Features, _mode?: BuildMode): Features {
    return g.scope('static_embedding', () => {
      const rows = g.gather(src.tensor(STATIC_TABLE), f.inputIds); // [B, S, D]
      const mask = g.unsqueeze(g.cast(f.attentionMask, 'float32'), [1]); // [B, 1, S]
      const count = g.max(g.reduceSum(mask, [2], false), g.scalar(1)); // [B, 1]
      const summed = g.reshape(g.matMul(mask, rows), [0, -1]); // [B, D]
      return { ...f, tokenEmbeddings: rows, sentenceEmbedding: g.div(summed, count) };
    });
  }
}

/** The registry's loader: the tokenizer (content tokens only, truncated as tokenizer.json says) and the table. */
export async function loadStaticEmbeddingModule(ctx: ModuleLoadContext): Promise<LoadedModule> {
  const maxLength = ctx.maxSeqLength ?? (await truncationLength(join(ctx.dir, 'tokenizer.json')));
  const tokenizer = await Tokenizer.fromDir(ctx.dir, { maxLength, addSpecialTokens: false });
  const se = await StaticEmbedding.load(ctx.dir, tokenizer.vocabSize);
  return { module: se.with({ maxSeqLength: maxLength }), tokenizer };
}

/** tokenizer.json's truncation.max_length, or UNLIMITED_TOKENS when it sets none. */
export async function truncationLength(tokenizerJsonPath: string): Promise<number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(tokenizerJsonPath, 'utf8'));
  } catch (e) {
    throw new ModelFormatError(`${tokenizerJsonPath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found (StaticEmbedding needs its tokenizer.json)' : `not valid JSON (${(e as Error).message})`}`);
  }
  const tr = (parsed as { truncation?: { max_length?: unknown } | null }).truncation;
  const n = tr?.max_length;
  if (tr === null || tr === undefined) return UNLIMITED_TOKENS;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new ModelFormatError(`${tokenizerJsonPath}: truncation.max_length must be a positive integer, got ${JSON.stringify(n)}`);
  return n;
}
