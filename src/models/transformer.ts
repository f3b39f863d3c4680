// sentence-transformers' Transformer module: a Hugging Face encoder (its family chosen from
// config.json's model_type through the architecture registry) that turns input_ids,
// attention_mask and token_type_ids (int64 [batch, seq]) into token embeddings
// [batch, seq, hidden]. It holds the config and the checkpoint's tensors (the ones the encoder
// reads as float32, the rest unchanged so saving writes them back) and delegates the graph to
// its architecture's pure encoder function. Immutable: `with` gives a changed copy.

import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import type { GraphBuilder } from '../graph/builder.js';
import type { Architecture, EncoderConfig } from './architectures/architecture.js';
import { architectureOf } from './architectures/registry.js';
import type { Features } from './features.js';
import { readJsonObject, type JsonObject } from './json_file.js';
import { readTransformerConfig, transformerConfigJson } from './st_format.js';
import { checkMaxSeqLength } from './max_seq_length.js';
import type { BuildMode, InputModule, InputModuleSettings, LoadedModule, ModuleLoadContext, ModuleSaveOptions } from './module.js';
import { Tokenizer } from '../tokenizers/tokenizer.js';
import type { Param, ParamSource } from './params.js';
import type { SafeDType } from './safetensors.js';
import { readEncoderCheckpoint, writeEncoderCheckpoint, type EncoderWeights } from './transformer_checkpoint.js';
import { randomEncoderWeights } from './transformer_init.js';

export const TRANSFORMER_TYPE = 'sentence_transformers.models.Transformer';

export interface TransformerSettings extends InputModuleSettings {
  doLowerCase?: boolean;
}

/** Token packing unless SENTENCEKIT_PACK=0 asks for the padded layout (1 or unset: packed). */
function packTokensDefault(): boolean {
  const v = process.env.SENTENCEKIT_PACK;
  if (v === undefined || v === '' || v === '1') return true;
  if (v === '0') return false;
  throw new Error(`SENTENCEKIT_PACK must be 1 (run the encoder on the real tokens only; the default) or 0 (the padded layout), not "${v}"`);
}

export class Transformer implements InputModule {
  readonly type = TRANSFORMER_TYPE;
  readonly accepts = 'ids' as const;
  readonly produces = 'tokens' as const;
  readonly inputDim = null;
  readonly maxSeqLength: number;
  readonly doLowerCase: boolean;
  private readonly saveFloat32: boolean;

  private constructor(
    readonly arch: Architecture,
    readonly config: EncoderConfig,
    private readonly weights: EncoderWeights,
    s: TransformerSettings,
  ) {
    const fit = arch.maxTokens?.(config) ?? config.maxPositionEmbeddings;
    this.maxSeqLength = Math.min(s.maxSeqLength ?? fit, fit);
    this.doLowerCase = s.doLowerCase ?? false;
    this.saveFloat32 = s.saveFloat32 ?? false;
  }

  get hiddenSize(): number {
    return this.config.hiddenSize;
  }

  get maxPositions(): number {
    return this.arch.maxTokens?.(this.config) ?? this.config.maxPositionEmbeddings;
  }

  get tokenTable(): string {
    return this.arch.tokenTable;
  }

  /** The Hugging Face class name of the encoder (config.json's architectures[0]). */
  get className(): string {
    const a = this.config.raw.architectures;
    return Array.isArray(a) && typeof a[0] === 'string' ? a[0] : this.arch.hfClasses[0];
  }

  outputDim(): number {
    return this.config.hiddenSize;
  }

  parameters(): ReadonlyMap<string, Param> {
    return this.weights.params;
  }

  /** The encoder's weights by Hugging Face name (the same map as parameters()). */
  get params(): ReadonlyMap<string, Param> {
    return this.weights.params;
  }

  /** The dtype each parameter had in the file it was read from. */
  get fileDtypes(): ReadonlyMap<string, SafeDType> {
    return this.weights.fileDtypes;
  }

  parameterCount(): number {
    let n = 0;
    for (const p of this.weights.params.values()) n += p.data.length;
    return n;
  }

  param(name: string): Param {
    const p = this.weights.params.get(name);
    if (!p) throw new Error(`Transformer: no parameter ${name}`);
    return p;
  }

  /** A copy with other settings, sharing the weights. */
  with(s: TransformerSettings): Transformer {
    return new Transformer(this.arch, this.config, this.weights, { maxSeqLength: this.maxSeqLength, doLowerCase: this.doLowerCase, saveFloat32: this.saveFloat32, ...s });
  }

  static async load(dir: string, s: TransformerSettings = {}): Promise<Transformer> {
    const cfgPath = join(dir, 'config.json');
    const raw = await readJsonObject(cfgPath);
    const arch = architectureOf(raw, cfgPath);
    const config = arch.parseConfig(raw, cfgPath);
    return new Transformer(arch, config, await readEncoderCheckpoint(dir, arch, config), s);
  }

  /** A randomly initialised encoder of the family `configJson` names. */
  static random(configJson: JsonObject, seed: number, maxSeqLength?: number): Transformer {
    const arch = architectureOf(configJson, 'config');
    const config = arch.parseConfig(configJson, 'config');
    return new Transformer(arch, config, randomEncoderWeights(arch, config, seed), { maxSeqLength });
  }

  build(g: GraphBuilder, params: ParamSource, f: Features, mode: BuildMode): Features {
    const training = mode.kind === 'training';
    const tokens = this.arch.encoder(g, this.config, params, this.arch.usesTokenTypes ? f : { ...f, tokenTypeIds: null }, {
      fuseQkv: !training,
      tokenRows: mode.tokenRows ?? true,
      packTokens: mode.packTokens ?? packTokensDefault(),
      dropout: training ? mode.dropout : null,
    });
    return { ...f, tokenEmbeddings: tokens };
  }

  configJson(): JsonObject {
    return this.arch.configJson(this.config);
  }

  /**
   * Writes config.json, the weights (Hugging Face names, the dtypes they were loaded in or float32
   * throughout after training, extra tensors kept; model.safetensors, pytorch_model.bin for the
   * 'v2' format) and sentence_bert_config.json as the format keeps it.
   */
  async save(dir: string, opts: ModuleSaveOptions = {}): Promise<void> {
    const format = opts.format ?? 'v3';
    await writeEncoderCheckpoint(dir, this.weights, (n) => (this.saveFloat32 ? 'F32' : this.weights.fileDtypes.get(n) ?? 'F32'), {
      layout: format === 'v2' ? 'pytorch' : 'safetensors',
      extraFloat32: this.saveFloat32,
    });
    await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(this.configJson(), null, 2) + '\n');
    await writeFileAtomic(join(dir, 'sentence_bert_config.json'), JSON.stringify(transformerConfigJson(this.maxSeqLength, this.doLowerCase, format), null, 2) + '\n');
  }

  describe(): Record<string, unknown> {
    const c = this.config;
    return {
      architecture: this.className,
      model_type: c.modelType,
      hidden_size: c.hiddenSize,
      num_hidden_layers: c.numHiddenLayers,
      num_attention_heads: c.numAttentionHeads,
      intermediate_size: c.intermediateSize,
      vocab_size: c.vocabSize,
    };
  }
}

/**
 * The registry's loader: sentence_bert_config.json, the encoder and the tokenizer of a
 * Transformer folder. max_seq_length as each version finds it (sentence_bert_config.json, else
 * tokenizer_config.json's model_max_length as 6.x writes it, else max_position_embeddings),
 * capped at max_position_embeddings; do_lower_case lowercases texts before the tokenizer.
 */
export async function loadTransformerModule(ctx: ModuleLoadContext): Promise<LoadedModule> {
  const sbPath = join(ctx.dir, 'sentence_bert_config.json');
  const spec = readTransformerConfig((await readJsonObject(sbPath, true)) ?? {}, sbPath, await readJsonObject(join(ctx.dir, 'tokenizer_config.json'), true));
  const maxSeq = ctx.maxSeqLength ?? spec.maxSeqLength ?? undefined;
  const t = await Transformer.load(ctx.dir, { maxSeqLength: maxSeq, doLowerCase: spec.doLowerCase });
  if (ctx.maxSeqLength !== undefined) checkMaxSeqLength(ctx.maxSeqLength, t.maxPositions, join(ctx.dir, 'config.json'));
  return { module: t, tokenizer: await Tokenizer.fromDir(ctx.dir, { maxLength: t.maxSeqLength, lowercaseInput: spec.doLowerCase }) };
}
