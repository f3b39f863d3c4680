// Weight quantisation of an inference graph, rewriting the IR in place with ai.onnx ops only.
//
// Dynamic int8 / uint8: every MatMul whose second input is a constant float32 matrix W [K, N]
// becomes
//     (x_q, x_s, x_z) = DynamicQuantizeLinear(x)            activations: uint8, per tensor, at run time
//     y = Cast(MatMulInteger(x_q, W_q, x_z[, W_z]), float) · Mul(x_s, W_s)
// with W quantised per column n (or, with perColumn false, once for the whole matrix):
//     int8 (symmetric):   W_s = max|W[:, n]| / q,                     W_q = round(W / W_s) ∈ [−q, q]
//     uint8 (asymmetric): W_s = (max(W[:, n], 0) − min(W[:, n], 0)) / Q,
//                         W_z = round(−min(W[:, n], 0) / W_s),      W_q = clamp(round(W / W_s) + W_z, 0, Q)
//     q = 127, Q = 255 (reduceRange: q = 63, Q = 127, 7-bit weights for CPUs without VNNI).
// This is the pattern onnxruntime's quantize_dynamic writes; at load time onnxruntime fuses it,
// with the bias Add that follows, into one DynamicQuantizeMatMul kernel (quantise x, integer
// GEMM on prepacked weights, scale and bias in the epilogue). QLinearMatMul would need static,
// calibrated activation and output scales instead, and re-quantised outputs.
// Large Gather tables (the word embeddings) can be stored int8 per row as well
// (quantizeGatherTables, formulas there).
//
// fp16: float32 initializers of at least 1024 elements whose values fit float16 are stored as
// float16 and turned back into float32 by a Cast node; onnxruntime folds those Casts once at
// load, so the model runs at float32 speed with float16 rounding of the weights and half the
// file size. (A whole-graph float16 model gains nothing on CPU: onnxruntime's float16 MatMul
// ran at the float32 rate in the export benchmark, and activations would be rounded to float16.)
// Takes a Graph; returns counts of what changed.

import { float32ToF16 } from '../models/safetensors.js';
import { ONNX_DTYPE } from '../graph/dtype.js';
import { Node, Value, type Graph, type TensorData } from '../graph/ir.js';

export type WeightQuantization = 'int8' | 'uint8' | 'fp16';
export const WEIGHT_QUANTIZATIONS: readonly WeightQuantization[] = ['int8', 'uint8', 'fp16'];

export interface DynamicQuantizeOptions {
  /** One scale (and zero point) per output column of each weight (default true); false: one per matrix. */
  perColumn?: boolean;
  /** 7-bit weights (avoids 16-bit saturation of u8·s8 products on AVX2 / AVX-512 without VNNI). */
  reduceRange?: boolean;
}

export interface QuantizeReport {
  /** MatMuls rewritten (dynamic) or initializers stored as float16 (fp16). */
  changed: number;
  /** Weight bytes before and after. */
  bytesBefore: number;
  bytesAfter: number;
}

/** Gives names that are not yet used in the graph. */
class Names {
  private readonly used: Set<string>;
  constructor(g: Graph) {
    this.used = g.names();
    for (const n of g.nodes) this.used.add(n.name);
  }
  get(base: string): string {
    let n = base;
    for (let i = 1; this.used.has(n); i++) n = `${base}_${i}`;
    this.used.add(n);
    return n;
  }
}

/** How many node inputs read each value. */
/** Replaces the graph's nodes with `out` and drops the replaced weights nothing reads any more. */
function swapNodes(g: Graph, out: Node[], replaced: Iterable<string>): void {
  g.nodes.length = 0;
  g.nodes.push(...out);
  const after = useCounts(g);
  for (const name of replaced) {
    const init = g.initializers.get(name);
    if (init && !after.has(init.value)) g.initializers.delete(name);
  }
}

function useCounts(g: Graph): Map<Value, number> {
  const m = new Map<Value, number>();
  for (const n of g.nodes) for (const v of n.inputs) if (v) m.set(v, (m.get(v) ?? 0) + 1);
  for (const v of g.outputs) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** Initializer data of `v` when it is a constant float32 matrix. */
function constMatrix(g: Graph, v: Value | null): TensorData | null {
  if (!v) return null;
  const init = g.initializers.get(v.name);
  if (!init || init.value !== v) return null;
  return init.data.dtype === 'float32' && init.data.dims.length === 2 ? init.data : null;
}

interface QuantizedWeight {
  q: Int8Array | Uint8Array;
  scale: Float32Array;
  zero: Uint8Array | null;
}

/** Quantises W [K, N] (row-major) per column or per tensor; see the formulas at the top. */
export function quantizeWeight(w: Float32Array, K: number, N: number, signed: boolean, perColumn: boolean, reduceRange: boolean): QuantizedWeight {
  const groups = perColumn ? N : 1;
  const lo = new Float64Array(groups);
  const hi = new Float64Array(groups);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      const v = w[k * N + n];
      const c = perColumn ? n : 0;
      if (v < lo[c]) lo[c] = v;
      if (v > hi[c]) hi[c] = v;
    }
  }
  const scale = new Float32Array(groups);
  if (signed) {
    const qmax = reduceRange ? 63 : 127;
    for (let c = 0; c < groups; c++) scale[c] = Math.max(Math.abs(lo[c]), Math.abs(hi[c])) / qmax || 1;
    const q = new Int8Array(K * N);
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) {
        const s = scale[perColumn ? n : 0];
        q[k * N + n] = Math.max(-qmax, Math.min(qmax, Math.round(w[k * N + n] / s)));
      }
    }
    return { q, scale, zero: null };
  }
  const qmax = reduceRange ? 127 : 255;
  const zero = new Uint8Array(groups);
  for (let c = 0; c < groups; c++) {
    scale[c] = (hi[c] - lo[c]) / qmax || 1;
    zero[c] = Math.max(0, Math.min(qmax, Math.round(-lo[c] / scale[c])));
  }
  const q = new Uint8Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let n = 0; n < N; n++) {
      const c = perColumn ? n : 0;
      q[k * N + n] = Math.max(0, Math.min(qmax, Math.round(w[k * N + n] / scale[c]) + zero[c]));
    }
  }
  return { q, scale, zero };
}

/** Dynamic int8/uint8 quantisation of every MatMul with a constant float32 weight matrix. */
export function quantizeDynamic(g: Graph, kind: 'int8' | 'uint8', opts: DynamicQuantizeOptions = {}): QuantizeReport {
  const perColumn = opts.perColumn ?? true;
  const reduceRange = opts.reduceRange ?? false;
  const names = new Names(g);
  const out: Node[] = [];
  let changed = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  const replaced = new Set<string>();
  const done = new Map<string, { wq: Value; ws: Value; wz: Value | null }>();
  for (const node of g.nodes) {
    const w = node.op === 'MatMul' && node.domain === '' ? constMatrix(g, node.inputs[1]) : null;
    const x = node.inputs[0];
    if (!w || !x || x.dtype !== 'float32') {
      out.push(node);
      continue;
    }
    const wv = node.inputs[1] as Value;
    const [K, N] = w.dims;
    let qw = done.get(wv.name);
    if (!qw) {
      const { q, scale, zero } = quantizeWeight(w.data as Float32Array, K, N, kind === 'int8', perColumn, reduceRange);
      const sDims = perColumn ? [N] : [];
      const add = (name: string, data: TensorData): Value => {
        const v = new Value(names.get(name), data.dtype, [...data.dims]);
        g.initializers.set(v.name, { value: v, data });
        return v;
      };
      qw = {
        wq: add(`${wv.name}:quantized`, { dtype: kind, dims: [K, N], data: q }),
        ws: add(`${wv.name}:scale`, { dtype: 'float32', dims: sDims, data: scale }),
        wz: zero ? add(`${wv.name}:zero_point`, { dtype: 'uint8', dims: sDims, data: zero }) : null,
      };
      done.set(wv.name, qw);
      bytesBefore += w.data.byteLength;
      bytesAfter += q.byteLength + scale.byteLength + (zero?.byteLength ?? 0);
      replaced.add(wv.name);
    }
    const y = node.outputs[0];
    const base = node.name;
    const xq = new Value(names.get(`${x.name}:quantized`), 'uint8', x.shape);
    const xs = new Value(names.get(`${x.name}:scale`), 'float32', []);
    const xz = new Value(names.get(`${x.name}:zero_point`), 'uint8', []);
    const yi = new Value(names.get(`${y.name}:int32`), 'int32', y.shape);
    const yf = new Value(names.get(`${y.name}:float`), 'float32', y.shape);
    const s = new Value(names.get(`${y.name}:scale`), 'float32', perColumn ? [N] : []);
    const mk = (op: string, suffix: string, inputs: (Value | null)[], outputs: Value[], attrs: Node['attrs'] = {}): Node => {
      const n = new Node(op, names.get(`${base}/${suffix}`), inputs, outputs, attrs);
      for (const o of outputs) o.producer = n;
      return n;
    };
    // one DynamicQuantizeLinear per MatMul: onnxruntime fuses only when its outputs have no other reader
    out.push(mk('DynamicQuantizeLinear', 'DynamicQuantizeLinear', [x], [xq, xs, xz]));
    out.push(mk('MatMulInteger', 'MatMulInteger', qw.wz ? [xq, qw.wq, xz, qw.wz] : [xq, qw.wq, xz], [yi]));
    out.push(mk('Cast', 'Cast', [yi], [yf], { to: { kind: 'int', value: ONNX_DTYPE.float32 } }));
    // the scale product first (activation scale, then weight scale), as the fusion expects
    out.push(mk('Mul', 'ScaleProduct', [xs, qw.ws], [s]));
    out.push(mk('Mul', 'Rescale', [yf, s], [y]));
    changed++;
  }
  swapNodes(g, out, replaced);
  return { changed, bytesBefore, bytesAfter };
}

/**
 * int8 storage of large embedding tables read by Gather (the word embeddings: about half of a
 * MiniLM's weights): per row v, s_v = max|T[v, :]| / 127, T_q = round(T / s_v), and
 *     Gather(T, ids) → Cast(Gather(T_q, ids), float) · Unsqueeze(Gather(s, ids), −1)
 * so only the looked-up rows are dequantised. Tables under `minElements` stay float32.
 */
export function quantizeGatherTables(g: Graph, minElements = 1 << 16): QuantizeReport {
  const names = new Names(g);
  const out: Node[] = [];
  let changed = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  const done = new Map<string, { tq: Value; ts: Value }>();
  const replaced = new Set<string>();
  let axes: Value | null = null;
  for (const node of g.nodes) {
    const t = node.op === 'Gather' && node.domain === '' ? constMatrix(g, node.inputs[0]) : null;
    const axis = node.attrs.axis;
    const ids = node.inputs[1];
    if (!t || t.data.length < minElements || (axis && axis.kind === 'int' && axis.value !== 0) || !ids || g.initializers.has(ids.name)) {
      out.push(node);
      continue;
    }
    const tv = node.inputs[0] as Value;
    const [V, H] = t.dims;
    let qt = done.get(tv.name);
    if (!qt) {
      const f = t.data as Float32Array;
      const q = new Int8Array(V * H);
      const scale = new Float32Array(V);
      for (let v = 0; v < V; v++) {
        let m = 0;
        for (let j = v * H; j < (v + 1) * H; j++) m = Math.max(m, Math.abs(f[j]));
        const s = m / 127 || 1;
        scale[v] = s;
        for (let j = v * H; j < (v + 1) * H; j++) q[j] = Math.max(-127, Math.min(127, Math.round(f[j] / s)));
      }
      const add = (name: string, data: TensorData): Value => {
        const val = new Value(names.get(name), data.dtype, [...data.dims]);
        g.initializers.set(val.name, { value: val, data });
        return val;
      };
      qt = { tq: add(`${tv.name}:quantized`, { dtype: 'int8', dims: [V, H], data: q }), ts: add(`${tv.name}:row_scale`, { dtype: 'float32', dims: [V], data: scale }) };
      done.set(tv.name, qt);
      replaced.add(tv.name);
      bytesBefore += f.byteLength;
      bytesAfter += q.byteLength + scale.byteLength;
    }
    if (!axes) {
      axes = new Value(names.get('gather_dequantize_axes'), 'int64', [1]);
      g.initializers.set(axes.name, { value: axes, data: { dtype: 'int64', dims: [1], data: BigInt64Array.of(-1n) } });
    }
    const y = node.outputs[0];
    const idShape = ids.shape;
    const rowsQ = new Value(names.get(`${y.name}:int8`), 'int8', y.shape);
    const rowsF = new Value(names.get(`${y.name}:float`), 'float32', y.shape);
    const sc = new Value(names.get(`${y.name}:scale`), 'float32', idShape);
    const sc1 = new Value(names.get(`${y.name}:scale_1`), 'float32', idShape === null ? null : [...idShape, 1]);
    const mk = (op: string, suffix: string, inputs: Value[], o: Value, attrs: Node['attrs'] = {}): Node => {
      const n = new Node(op, names.get(`${node.name}/${suffix}`), inputs, [o], attrs);
      o.producer = n;
      return n;
    };
    out.push(mk('Gather', 'GatherQuantized', [qt.tq, ids], rowsQ, { axis: { kind: 'int', value: 0 } }));
    out.push(mk('Cast', 'Cast', [rowsQ], rowsF, { to: { kind: 'int', value: ONNX_DTYPE.float32 } }));
    out.push(mk('Gather', 'GatherScale', [qt.ts, ids], sc, { axis: { kind: 'int', value: 0 } }));
    out.push(mk('Unsqueeze', 'Unsqueeze', [sc, axes], sc1));
    out.push(mk('Mul', 'Dequantize', [rowsF, sc1], y));
    changed++;
  }
  swapNodes(g, out, replaced);
  return { changed, bytesBefore, bytesAfter };
}

const F16_MAX = 65504;
const F16_MIN_ELEMENTS = 1024;

/** Stores large float32 initializers as float16, each behind a Cast to float32. */
export function storeFloat16(g: Graph): QuantizeReport {
  const names = new Names(g);
  const casts: Node[] = [];
  let bytesBefore = 0;
  let bytesAfter = 0;
  for (const [name, init] of [...g.initializers]) {
    const d = init.data;
    if (d.dtype !== 'float32' || d.data.length < F16_MIN_ELEMENTS) continue;
    const f = d.data as Float32Array;
    let fits = true;
    for (let i = 0; i < f.length; i++) {
      if (!(Math.abs(f[i]) <= F16_MAX)) {
        fits = false;
        break;
      }
    }
    if (!fits) continue;
    const half = new Value(names.get(`${name}:fp16`), 'float16', [...d.dims]);
    g.initializers.delete(name);
    g.initializers.set(half.name, { value: half, data: { dtype: 'float16', dims: [...d.dims], data: float32ToF16(f) } });
    const cast = new Node('Cast', names.get(`${name}/CastToFloat`), [half], [init.value], { to: { kind: 'int', value: ONNX_DTYPE.float32 } });
    init.value.producer = cast;
    casts.push(cast);
    bytesBefore += f.byteLength;
    bytesAfter += f.length * 2;
  }
  g.nodes.unshift(...casts);
  return { changed: casts.length, bytesBefore, bytesAfter };
}
