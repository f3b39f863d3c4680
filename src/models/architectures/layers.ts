// Building blocks the encoder families share, as graph ops:
//   attention mask  M = (1 − mask)·min_f32, broadcast [B, 1, 1, S]
//   self-attention  A = softmax(Q Kᵀ / √d + M + bias) V  per head (d = H / heads), then W_o
//   post-LN layer   h = LN(h + drop(A)); h = LN(h + drop(act(h W_i + b_i) W_2 + b_2))
//   dropout         x·keep/(1 − p) in training (mask fed or drawn by onnxruntime)
// Each family names its weights (LayerNames) and may add an attention bias per layer (hook);
// tokens run as rows of a [batch·seq, hidden] matrix so every projection is one Gemm, and with
// `packTokens` as rows of the [real tokens, hidden] matrix P = X[t] (t = the flat positions where
// mask = 1): the row-wise work (projections, FFN, LayerNorm, activation) skips the padding, and
// only attention sees the padded [batch, seq] layout (P scattered into zeros, its output gathered).

import type { GraphBuilder } from '../../graph/builder.js';
import type { Value } from '../../graph/ir.js';
import type { DropoutSite } from '../module.js';
import type { ParamSource } from '../params.js';
import type { EncoderConfig, EncoderOptions } from './architecture.js';

const F32_MIN = -3.4028234663852886e38;

/** Hugging Face names of one layer's weights (without `.weight` / `.bias`). */
export interface LayerNames {
  query: string;
  key: string;
  value: string;
  attentionOut: string;
  attentionNorm: string;
  intermediate: string;
  output: string;
  outputNorm: string;
}

/**
 * The shapes of one post-LayerNorm encoder layer's parameters, by the family's names, into `m`:
 * Q, K, V, attention output [H, H] with bias [H]; the two LayerNorms [H]; FFN in [I, H] + [I],
 * out [H, I] + [H] (Linear weights [out, in]).
 */
export function setLayerShapes(m: Map<string, number[]>, n: LayerNames, H: number, I: number): void {
  for (const x of [n.query, n.key, n.value, n.attentionOut]) {
    m.set(`${x}.weight`, [H, H]);
    m.set(`${x}.bias`, [H]);
  }
  // this order is the checkpoint's, which random initialisation draws in
  m.set(`${n.attentionNorm}.weight`, [H]);
  m.set(`${n.attentionNorm}.bias`, [H]);
  m.set(`${n.intermediate}.weight`, [I, H]);
  m.set(`${n.intermediate}.bias`, [I]);
  m.set(`${n.output}.weight`, [H, I]);
  m.set(`${n.output}.bias`, [H]);
  m.set(`${n.outputNorm}.weight`, [H]);
  m.set(`${n.outputNorm}.bias`, [H]);
}

/** Dropout(x, p) in training mode, each site with its own seed or fed mask (of x's shape). */
export function dropout(g: GraphBuilder, x: Value, p: number, opts: EncoderOptions, layout: DropoutSite['layout'], width: number, heads: number): Value {
  const d = opts.dropout;
  if (!d || p <= 0) return x;
  if (d.fedMasks) {
    // the mask is the factor itself, 1/(1 − p) or 0 (training/dropout_masks.ts): one Mul each way
    const mask = g.input(`dropout_mask_${d.sites.length}`, x.dtype, x.shape);
    d.sites.push({ name: mask.name, p, layout, width, heads });
    const y = g.mul(x, mask);
    // attention probabilities [B, A, S, S] are the largest activations: rebuild them for the
    // backward pass (one Mul) rather than keep a third copy beside the softmax and the mask
    return layout === 'attention' ? g.recomputeInBackward(y) : y;
  }
  const seed = d.nextSeed();
  return g.op1('Dropout', [x, g.scalar(p, x.dtype), g.constant({ dtype: 'bool', dims: [], data: Uint8Array.of(1) })], { seed });
}

/** The additive attention mask [B, 1, 1, S]: 0 where attended, min_f32 where padded. */
export function extendedAttentionMask(g: GraphBuilder, attentionMask: Value): Value {
  return g.scope('extended_attention_mask', () => {
    const m = g.cast(attentionMask, 'float32');
    const inv = g.sub(g.scalar(1), m);
    return g.unsqueeze(g.mul(inv, g.scalar(F32_MIN)), [1, 2]);
  });
}

/** The real tokens of a padded batch as rows: t = flat positions where mask = 1 (N of B·S). */
export interface TokenPacking {
  /** [B·S, W] → [N, W]: rows t. */
  pack(x: Value): Value;
  /** [N, W] → [B·S, W]: rows t, zeros elsewhere. */
  unpack(x: Value, width: number): Value;
}

export function tokenPacking(g: GraphBuilder, attentionMask: Value): TokenPacking {
  return g.scope('token_packing', () => {
    const flat = g.cast(g.reshape(attentionMask, [-1]), 'bool');
    const slots = g.shapeOf(flat); // [B·S]
    const where = g.transpose(g.op1('NonZero', [flat]), [1, 0]); // [N, 1]
    const index = g.distinctIndices(g.reshape(where, [-1])); // [N], each position once
    return {
      pack: (x) => g.gather(x, index),
      unpack: (x, width) => {
        const zeros = g.op1('ConstantOfShape', [g.concat([slots, g.ints([width])], 0)], { value: { kind: 'tensor', value: { dtype: x.dtype, dims: [1], data: x.dtype === 'float64' ? new Float64Array(1) : new Float32Array(1) } } });
        return g.op1('ScatterND', [zeros, where, x]);
      },
    };
  });
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

export interface EncoderStackHooks {
  /** Weight names of layer l. */
  names(l: number): LayerNames;
  /** An additive attention bias [B or 1, heads, S, S] for layer l (relative positions), or null. */
  attentionBias?(l: number): Value | null;
}

/**
 * The post-LN layer stack on embeddings h0 [B, S, H] under attention mask [B, S]: returns token
 * embeddings [B, S, H] (zeros at padded positions when packed). `ids` gives the batch shape.
 */
export function postLnEncoder(g: GraphBuilder, c: EncoderConfig, w: ParamSource, ids: Value, h0: Value, attentionMask: Value, opts: EncoderOptions, hooks: EncoderStackHooks): Value {
  const maskAdd = extendedAttentionMask(g, attentionMask);
  const H = c.hiddenSize;
  const heads = c.numAttentionHeads;
  const dh = H / heads;
  const idsShape = ids.shape ?? ['batch', 'seq'];
  const dims = g.shapeOf(ids);
  const rows = opts.tokenRows || opts.packTokens;
  const packing = opts.packTokens ? tokenPacking(g, attentionMask) : null;
  const headShape = rows ? g.concat([dims, g.ints([heads, dh])], 0) : null;
  const toHeads = (t: Value, perm: number[]): Value => {
    if (!headShape) return g.transpose(g.reshape(t, [0, 0, heads, dh]), perm);
    const r = g.reshapeTo(t, headShape);
    r.shape = [idsShape[0], idsShape[1], heads, dh];
    return g.transpose(r, perm);
  };
  const rowLayout: DropoutSite['layout'] = packing ? 'packed' : rows ? 'rows' : 'tokens3d';
  const drop = (x: Value, p: number, layout: DropoutSite['layout']): Value => dropout(g, x, p, opts, layout, H, heads);
  const scale = 1 / Math.sqrt(dh);
  let h = rows ? g.reshape(h0, [-1, H]) : h0;
  if (packing) h = packing.pack(h);
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const n = hooks.names(l);
    const x = h;
    h = g.scope(`encoder.layer.${l}`, () => {
      const ctx = g.scope('attention', () => {
        let q: Value;
        let k: Value;
        let v: Value;
        if (opts.fuseQkv) {
          const qkv = w.linear([`${n.query}.weight`, `${n.key}.weight`, `${n.value}.weight`], [`${n.query}.bias`, `${n.key}.bias`, `${n.value}.bias`], [scale, 1, 1]);
          const fused = g.linear(x, qkv.weight, qkv.bias);
          // packed: one scatter of the fused [N, 3H] rows, then the split
          [q, k, v] = g.split(packing ? packing.unpack(fused, 3 * H) : fused, [H, H, H], rows ? 1 : 2);
        } else {
          const lq = w.linear([`${n.query}.weight`], [`${n.query}.bias`]);
          const lk = w.linear([`${n.key}.weight`], [`${n.key}.bias`]);
          const lv = w.linear([`${n.value}.weight`], [`${n.value}.bias`]);
          q = g.mul(g.linear(x, lq.weight, lq.bias), g.scalar(scale));
          k = g.linear(x, lk.weight, lk.bias);
          v = g.linear(x, lv.weight, lv.bias);
          if (packing) [q, k, v] = [q, k, v].map((t) => packing.unpack(t, H));
        }
        const qh = toHeads(q, [0, 2, 1, 3]); // [B, A, S, d]
        const kt = toHeads(k, [0, 2, 3, 1]); // [B, A, d, S]
        const vh = toHeads(v, [0, 2, 1, 3]);
        let scores = g.add(g.matMul(qh, kt), maskAdd);
        const bias = hooks.attentionBias?.(l) ?? null;
        if (bias) scores = g.add(scores, bias);
        const probs = drop(g.softmax(scores, -1), c.attentionProbsDropoutProb, 'attention');
        const ctxh = g.matMul(probs, vh); // [B, A, S, d]
        const padded = g.reshape(g.transpose(ctxh, [0, 2, 1, 3]), rows ? [-1, H] : [0, 0, H]);
        const merged = packing ? packing.pack(padded) : padded;
        const o = w.linear([`${n.attentionOut}.weight`], [`${n.attentionOut}.bias`]);
        const out = drop(g.linear(merged, o.weight, o.bias), c.hiddenDropoutProb, rowLayout);
        return g.layerNorm(g.add(out, x), w.tensor(`${n.attentionNorm}.weight`), w.tensor(`${n.attentionNorm}.bias`), c.layerNormEps);
      });
      return g.scope('ffn', () => {
        const i = w.linear([`${n.intermediate}.weight`], [`${n.intermediate}.bias`]);
        // the activation [tokens, I] is, beside attention, the largest value the backward pass
        // reads (for W_out's gradient); a one-input op is rebuilt from its input, which the
        // activation's own gradient keeps anyway
        const act = activation(g, c.hiddenAct, g.linear(ctx, i.weight, i.bias));
        if (act.producer?.inputs.length === 1) g.recomputeInBackward(act);
        const o = w.linear([`${n.output}.weight`], [`${n.output}.bias`]);
        const out = drop(g.linear(act, o.weight, o.bias), c.hiddenDropoutProb, rowLayout);
        return g.layerNorm(g.add(out, ctx), w.tensor(`${n.outputNorm}.weight`), w.tensor(`${n.outputNorm}.bias`), c.layerNormEps);
      });
    });
  }
  if (!rows) return h;
  const tokens = g.reshapeTo(packing ? packing.unpack(h, H) : h, g.concat([dims, g.ints([H])], 0));
  tokens.shape = [idsShape[0], idsShape[1], H];
  return tokens;
}
