// The BERT-family encoder (sentence-transformers' Transformer module), as graph ops:
//   E = LayerNorm(word[ids] + position[0..S) + token_type[tt])
//   per layer:  A = softmax(Q Kᵀ / √d + (1 − mask)·min_f32) V   (per head, d = H / heads)
//               h = LayerNorm(h + A W_o + b_o)
//               h = LayerNorm(h + act(h W_i + b_i) W_2 + b_2)   (act: erf-GELU by default)
// Takes input_ids, attention_mask, token_type_ids (int64 [batch, seq]) and gives token
// embeddings [batch, seq, hidden]. Holds the checkpoint's tensors: the ones it uses as float32,
// the rest (pooler.*, embeddings.position_ids, …) unchanged so that saving writes them back.

import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { bertConfigJson, bertParamShapes, parseBertConfig, type BertConfig } from './bert_config.js';
import type { Features } from './features.js';
import { Rng } from './init.js';
import { ModelFormatError, readJsonObject, type JsonObject } from './json_file.js';
import type { Param, ParamSource } from './params.js';
import { f32Tensor, float32ToBF16, float32ToF16, readSafetensors, toFloat32, writeSafetensors, type SafeDType, type SafeTensor } from './safetensors.js';
import { join } from 'node:path';
import { access } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic.js';

const F32_MIN = -3.4028234663852886e38;

/**
 * A dropout site whose keep-mask is a graph input. Its shape, for a batch of n texts of s
 * tokens: tokens3d [n, s, hidden], rows [n·s, hidden], attention [n, heads, s, s].
 */
export interface DropoutSite {
  name: string;
  p: number;
  layout: 'tokens3d' | 'rows' | 'attention';
}

export interface TransformerBuildOptions {
  /** Fold 1/√d into the query projection and fuse Q/K/V into one MatMul (inference). */
  fuseQkv?: boolean;
  /**
   * Training: BERT's hidden and attention-probability dropout. With `seed`, onnxruntime's Dropout
   * draws the masks; with `fedMasks`, each site reads its keep-mask from a graph input
   * `dropout_mask_<k>` (listed in `dropoutSites` after build), so the caller controls the randomness.
   */
  dropout?: { seed: number; fedMasks?: boolean } | null;
  /** Run the layers on tokens as rows of a 2-D matrix (default true). */
  tokenRows?: boolean;
}

export class BertTransformer {
  readonly type = 'sentence_transformers.models.Transformer';

  private constructor(
    readonly config: BertConfig,
    readonly params: Map<string, Param>,
    /** Tensors of the checkpoint the encoder does not use, kept for saving. */
    readonly extra: Map<string, SafeTensor>,
    /** The dtype each parameter had in the file (written back in the same dtype). */
    readonly fileDtypes: Map<string, SafeDType>,
    /** Name prefix of the checkpoint ('' or 'bert.'). */
    readonly prefix: string,
    public maxSeqLength: number,
    public doLowerCase: boolean,
  ) {}

  get hiddenSize(): number {
    return this.config.hiddenSize;
  }

  parameterCount(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.data.length;
    return n;
  }

  static async load(dir: string, stConfig: { maxSeqLength?: number; doLowerCase?: boolean } = {}): Promise<BertTransformer> {
    const cfgPath = join(dir, 'config.json');
    const config = parseBertConfig(await readJsonObject(cfgPath), cfgPath);
    const stPath = join(dir, 'model.safetensors');
    try {
      await access(stPath);
    } catch {
      const hasBin = await access(join(dir, 'pytorch_model.bin')).then(() => true, () => false);
      throw new ModelFormatError(
        hasBin
          ? `${dir}: only pytorch_model.bin found; SentenceKit reads model.safetensors (convert with Python: model.save_pretrained(dir, safe_serialization=True))`
          : `${stPath}: file not found`,
      );
    }
    const file = await readSafetensors(stPath);
    const shapes = bertParamShapes(config);
    const names = [...file.tensors.keys()];
    const prefix = names.some((n) => n.startsWith('bert.embeddings.')) ? 'bert.' : '';
    const params = new Map<string, Param>();
    const dtypes = new Map<string, SafeDType>();
    for (const [name, shape] of shapes) {
      const t = file.tensors.get(prefix + name);
      if (!t) {
        throw new ModelFormatError(`${stPath}: tensor "${prefix + name}" is missing (config.json describes ${config.numHiddenLayers} layers of hidden size ${config.hiddenSize}); the checkpoint does not match its config`);
      }
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new ModelFormatError(`${stPath}: tensor "${prefix + name}" has shape [${t.shape.join(', ')}] but config.json implies [${shape.join(', ')}]`);
      }
      params.set(name, { shape, data: toFloat32(t, `${stPath}: ${prefix + name}`) });
      dtypes.set(name, t.dtype);
    }
    const extra = new Map<string, SafeTensor>();
    for (const [n, t] of file.tensors) {
      const bare = n.startsWith(prefix) ? n.slice(prefix.length) : n;
      if (!params.has(bare)) extra.set(n, { ...t, data: t.data.slice() });
    }
    const maxLen = Math.min(stConfig.maxSeqLength ?? config.maxPositionEmbeddings, config.maxPositionEmbeddings);
    return new BertTransformer(config, params, extra, dtypes, prefix, maxLen, stConfig.doLowerCase ?? false);
  }

  /** A randomly initialised encoder (BERT's N(0, initializer_range) scheme), with a pooler as BertModel has. */
  static random(configJson: JsonObject, seed: number, maxSeqLength?: number): BertTransformer {
    const config = parseBertConfig(configJson, 'config');
    const rng = new Rng(seed);
    const params = new Map<string, Param>();
    const dtypes = new Map<string, SafeDType>();
    const std = config.initializerRange;
    for (const [name, shape] of bertParamShapes(config)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      if (name.endsWith('LayerNorm.weight')) data.fill(1);
      else if (name.endsWith('.weight')) rng.fillNormal(data, std);
      if (name === 'embeddings.word_embeddings.weight') {
        const pad = config.padTokenId;
        if (pad < config.vocabSize) data.fill(0, pad * config.hiddenSize, (pad + 1) * config.hiddenSize);
      }
      params.set(name, { shape, data });
      dtypes.set(name, 'F32');
    }
    const H = config.hiddenSize;
    const extra = new Map<string, SafeTensor>();
    extra.set('pooler.dense.weight', f32Tensor(rng.fillNormal(new Float32Array(H * H), std), [H, H]));
    extra.set('pooler.dense.bias', f32Tensor(new Float32Array(H), [H]));
    return new BertTransformer(config, params, extra, dtypes, '', Math.min(maxSeqLength ?? config.maxPositionEmbeddings, config.maxPositionEmbeddings), false);
  }

  param(name: string): Param {
    const p = this.params.get(name);
    if (!p) throw new Error(`BertTransformer: no parameter ${name}`);
    return p;
  }

  /** Adds the encoder to `g`; sets features.tokenEmbeddings. */
  build(g: GraphBuilder, src: ParamSource, f: Features, opts: TransformerBuildOptions = {}): Features {
    const c = this.config;
    const H = c.hiddenSize;
    const heads = c.numAttentionHeads;
    const dh = H / heads;
    this.dropoutCount = 0;
    this.dropoutSites = [];
    const h0 = g.scope('embeddings', () => {
      const word = g.gather(src.tensor('embeddings.word_embeddings.weight'), f.inputIds);
      const seqLen = g.shapeOf(f.inputIds, 1, 2);
      const pos = g.slice(src.tensor('embeddings.position_embeddings.weight'), [0], seqLen, [0]);
      let e = g.add(word, pos);
      const tt = f.tokenTypeIds;
      const typeTable = src.tensor('embeddings.token_type_embeddings.weight');
      e = g.add(e, tt ? g.gather(typeTable, tt) : g.gather(typeTable, g.scalar(0, 'int64')));
      const ln = g.layerNorm(e, src.tensor('embeddings.LayerNorm.weight'), src.tensor('embeddings.LayerNorm.bias'), c.layerNormEps);
      return this.dropout(g, ln, c.hiddenDropoutProb, opts, 'tokens3d');
    });
    // additive mask [B, 1, 1, S]: 0 where attended, min_f32 where padded
    const maskAdd = g.scope('extended_attention_mask', () => {
      const m = g.cast(f.attentionMask, 'float32');
      const inv = g.sub(g.scalar(1), m);
      return g.unsqueeze(g.mul(inv, g.scalar(F32_MIN)), [1, 2]);
    });
    // The layers work on tokens as rows of a matrix [batch·seq, hidden]: every projection is then
    // a 2-D product that onnxruntime fuses with its bias (and its transposed weight) into one Gemm.
    const ids = f.inputIds.shape ?? ['batch', 'seq'];
    const dims = g.shapeOf(f.inputIds);
    const rows = opts.tokenRows ?? true;
    const headShape = rows ? g.concat([dims, g.ints([heads, dh])], 0) : null;
    const toHeads = (t: Value, perm: number[]): Value => {
      if (!headShape) return g.transpose(g.reshape(t, [0, 0, heads, dh]), perm);
      const r = g.reshapeTo(t, headShape);
      r.shape = [ids[0], ids[1], heads, dh];
      return g.transpose(r, perm);
    };
    let h = rows ? g.reshape(h0, [-1, H]) : h0;
    for (let l = 0; l < c.numHiddenLayers; l++) {
      h = g.scope(`encoder.layer.${l}`, () => this.layer(g, src, h, maskAdd, l, toHeads, rows, opts));
    }
    if (!rows) return { ...f, tokenEmbeddings: h };
    const tokens = g.reshapeTo(h, g.concat([dims, g.ints([H])], 0));
    tokens.shape = [ids[0], ids[1], H];
    return { ...f, tokenEmbeddings: tokens };
  }

  private layer(g: GraphBuilder, src: ParamSource, x: Value, maskAdd: Value, l: number, toHeads: (t: Value, perm: number[]) => Value, rows: boolean, opts: TransformerBuildOptions): Value {
    const c = this.config;
    const H = c.hiddenSize;
    const dh = H / c.numAttentionHeads;
    const p = `encoder.layer.${l}.`;
    const scale = 1 / Math.sqrt(dh);
    const a = `${p}attention.self.`;
    const ctx = g.scope('attention', () => {
      let q: Value;
      let k: Value;
      let v: Value;
      if (opts.fuseQkv) {
        const qkv = src.linear([`${a}query.weight`, `${a}key.weight`, `${a}value.weight`], [`${a}query.bias`, `${a}key.bias`, `${a}value.bias`], [scale, 1, 1]);
        [q, k, v] = g.split(g.linear(x, qkv.weight, qkv.bias), [H, H, H], rows ? 1 : 2);
      } else {
        const lq = src.linear([`${a}query.weight`], [`${a}query.bias`]);
        const lk = src.linear([`${a}key.weight`], [`${a}key.bias`]);
        const lv = src.linear([`${a}value.weight`], [`${a}value.bias`]);
        q = g.mul(g.linear(x, lq.weight, lq.bias), g.scalar(scale));
        k = g.linear(x, lk.weight, lk.bias);
        v = g.linear(x, lv.weight, lv.bias);
      }
      const qh = toHeads(q, [0, 2, 1, 3]); // [B, A, S, d]
      const kt = toHeads(k, [0, 2, 3, 1]); // [B, A, d, S]
      const vh = toHeads(v, [0, 2, 1, 3]);
      const scores = g.add(g.matMul(qh, kt), maskAdd);
      const probs = this.dropout(g, g.softmax(scores, -1), c.attentionProbsDropoutProb, opts, 'attention');
      const ctxh = g.matMul(probs, vh); // [B, A, S, d]
      const merged = g.reshape(g.transpose(ctxh, [0, 2, 1, 3]), rows ? [-1, H] : [0, 0, H]);
      const o = src.linear([`${p}attention.output.dense.weight`], [`${p}attention.output.dense.bias`]);
      const out = this.dropout(g, g.linear(merged, o.weight, o.bias), c.hiddenDropoutProb, opts, rows ? 'rows' : 'tokens3d');
      return g.layerNorm(g.add(out, x), src.tensor(`${p}attention.output.LayerNorm.weight`), src.tensor(`${p}attention.output.LayerNorm.bias`), c.layerNormEps);
    });
    return g.scope('ffn', () => {
      const i = src.linear([`${p}intermediate.dense.weight`], [`${p}intermediate.dense.bias`]);
      const act = activation(g, c.hiddenAct, g.linear(ctx, i.weight, i.bias));
      const o = src.linear([`${p}output.dense.weight`], [`${p}output.dense.bias`]);
      const out = this.dropout(g, g.linear(act, o.weight, o.bias), c.hiddenDropoutProb, opts, rows ? 'rows' : 'tokens3d');
      return g.layerNorm(g.add(out, ctx), src.tensor(`${p}output.LayerNorm.weight`), src.tensor(`${p}output.LayerNorm.bias`), c.layerNormEps);
    });
  }

  private dropoutCount = 0;
  /** The dropout sites of the last build with fed masks, in input order. */
  dropoutSites: DropoutSite[] = [];

  /** Dropout(x, p) in training mode, each site with its own seed derived from the run's seed. */
  private dropout(g: GraphBuilder, x: Value, p: number, opts: TransformerBuildOptions, layout: DropoutSite['layout']): Value {
    if (!opts.dropout || p <= 0) return x;
    if (opts.dropout.fedMasks) {
      const k = this.dropoutSites.length;
      const mask = g.input(`dropout_mask_${k}`, 'bool', x.shape);
      this.dropoutSites.push({ name: mask.name, p, layout });
      return g.where(mask, g.mul(x, g.scalar(1 / (1 - p), x.dtype)), g.scalar(0, x.dtype));
    }
    const seed = (opts.dropout.seed * 1000 + this.dropoutCount++) % 2147483647;
    return g.op1('Dropout', [x, g.scalar(p, x.dtype), g.constant({ dtype: 'bool', dims: [], data: Uint8Array.of(1) })], { seed });
  }

  configJson(): JsonObject {
    return bertConfigJson(this.config);
  }

  /** Writes config.json and model.safetensors (Hugging Face names, original dtypes, extra tensors kept). */
  async save(dir: string): Promise<void> {
    const tensors = new Map<string, SafeTensor>();
    for (const [name, p] of this.params) {
      const dt = this.fileDtypes.get(name) ?? 'F32';
      let t: SafeTensor;
      if (dt === 'F16') t = { dtype: 'F16', shape: p.shape, data: new Uint8Array(float32ToF16(p.data).buffer) };
      else if (dt === 'BF16') t = { dtype: 'BF16', shape: p.shape, data: new Uint8Array(float32ToBF16(p.data).buffer) };
      else t = f32Tensor(p.data, p.shape);
      tensors.set(this.prefix + name, t);
    }
    for (const [n, t] of this.extra) tensors.set(n, t);
    await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
    await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(this.configJson(), null, 2) + '\n');
  }
}

export function activation(g: GraphBuilder, act: string, x: Value): Value {
  switch (act) {
    case 'gelu':
      return g.gelu(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh': {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const x3 = g.mul(g.mul(x, x), x);
      const inner = g.mul(g.add(x, g.mul(x3, g.scalar(0.044715))), g.scalar(Math.sqrt(2 / Math.PI)));
      return g.mul(g.mul(x, g.scalar(0.5)), g.add(g.tanh(inner), g.scalar(1)));
    }
    case 'relu':
      return g.relu(x);
    case 'silu':
      return g.mul(x, g.sigmoid(x));
    default:
      throw new Error(`unsupported activation ${act}`);
  }
}
