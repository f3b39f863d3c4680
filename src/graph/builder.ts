// GraphBuilder: creates a Graph node by node with inferred dtypes and shapes, readable names
// (a scope stack gives names like `encoder.layer.3.attention/MatMul_2`), deduplicated scalar
// constants, and typed helpers for the ops the models use. Ops not covered by a helper go
// through `op()`, which consults the op registry for shape inference.

import { arrayFor, ONNX_DTYPE, type DType } from './dtype.js';
import { Graph, Node, Value, toAttr, type Attr, type AttrInput, type Shape, type TensorData } from './ir.js';
import { opSchema } from './ops/registry.js';
import './ops/elementwise.js';
import './ops/linalg.js';
import './ops/reduce.js';
import './ops/shape.js';
import './ops/nn.js';

export interface BuilderOptions {
  opset?: number;
  /** With opset ≥ 20, emit GELU as the Gelu op instead of its erf formula (default true). */
  geluOp?: boolean;
}

export const DEFAULT_OPSET = 17;

export function tensor(dtype: DType, dims: number[], values: ArrayLike<number> | ArrayLike<bigint>): TensorData {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = arrayFor(dtype, n);
  if (values.length !== n) throw new Error(`tensor: ${values.length} values for dims [${dims.join(',')}]`);
  if (data instanceof BigInt64Array) for (let i = 0; i < n; i++) data[i] = BigInt(values[i] as number | bigint);
  else for (let i = 0; i < n; i++) (data as Float32Array)[i] = Number(values[i]);
  return { dtype, dims, data };
}

export class GraphBuilder {
  readonly graph: Graph;
  readonly opset: number;
  private readonly useGeluOp: boolean;
  private readonly consts = new Map<Value, TensorData>();
  private readonly scalarCache = new Map<string, Value>();
  private readonly scopes: string[] = [];
  private readonly used = new Set<string>();
  private readonly usedNodeNames = new Set<string>();
  /** Per name space, the last suffix `unique` gave each base name. */
  private readonly lastSuffix = new Map<Set<string>, Map<string, number>>();
  /** Symbolic dimensions made by shape inference so far (their names number from 0 in each graph). */
  private anonDims = 0;
  /** Index values known to hold no repeats (distinct): Gather's gradient scatters them directly. */
  readonly distinct = new Set<Value>();
  /** Values the backward pass computes again from their producer's inputs instead of keeping (autodiff.ts). */
  readonly recomputed = new Set<Value>();

  constructor(name = 'main', opts: BuilderOptions = {}) {
    this.opset = opts.opset ?? DEFAULT_OPSET;
    this.useGeluOp = opts.geluOp ?? true;
    this.graph = new Graph(name, this.opset);
  }

  /** Marks index values `v` as holding no repeated entries (e.g. NonZero positions), and returns it. */
  distinctIndices(v: Value): Value {
    this.distinct.add(v);
    return v;
  }

  /**
   * Marks `v` as cheap to compute again: gradient rules that read it get a copy of its node,
   * run just before they need it, so the forward value is freed once the forward is done with it.
   * onnxruntime's common-subexpression elimination would merge the copy back: sessions running
   * such a graph turn it off (`SessionOptions.disabledOptimizers`).
   */
  recomputeInBackward(v: Value): Value {
    if (!v.producer || v.producer.outputs.length !== 1) throw new Error(`recomputeInBackward: ${v.name} is not the single output of a node`);
    this.recomputed.add(v);
    return v;
  }

  // ---- naming ----

  /** Runs `fn` with `name` pushed on the scope stack (node and value names get the prefix). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /**
   * Reserves a unique name in `space` (value names by default; node names live apart): `base`,
   * else `base_i` with the smallest free i. The scan starts after the last i given for `base`
   * (names are never released, so every smaller one is still taken): linear, not quadratic, in
   * the number of nodes sharing a base name (AdamW adds hundreds of `optimizer/Mul`).
   */
  private unique(base: string, space: Set<string> = this.used): string {
    if (!space.has(base)) {
      space.add(base);
      return base;
    }
    let last = this.lastSuffix.get(space);
    if (!last) this.lastSuffix.set(space, (last = new Map()));
    for (let i = (last.get(base) ?? 0) + 1; ; i++) {
      const n = `${base}_${i}`;
      if (!space.has(n)) {
        space.add(n);
        last.set(base, i);
        return n;
      }
    }
  }

  private scoped(base: string): string {
    return this.scopes.length ? `${this.scopes.join('.')}/${base}` : base;
  }

  // ---- graph interface ----

  input(name: string, dtype: DType, shape: Shape): Value {
    const v = new Value(this.unique(name), dtype, shape);
    this.graph.inputs.push(v);
    return v;
  }

  /** Marks `v` as a graph output called `name` (renaming it when it is an intermediate value). */
  output(v: Value, name?: string): Value {
    if (name && v.name !== name) {
      const isInterface = this.graph.inputs.includes(v) || this.graph.initializers.has(v.name) || this.graph.outputs.includes(v);
      if (isInterface || this.used.has(name)) v = this.op1('Identity', [v], {}, name);
      else {
        this.used.delete(v.name);
        this.used.add(name);
        v.name = name;
      }
    }
    this.graph.outputs.push(v);
    return v;
  }

  /** A named constant tensor stored in the model (weights). */
  initializer(name: string, data: TensorData): Value {
    if (this.graph.initializers.has(name)) throw new Error(`initializer ${name} already exists`);
    const v = new Value(this.unique(name), data.dtype, [...data.dims]);
    if (v.name !== name && !name.startsWith('const_')) throw new Error(`initializer name ${name} is already used by another value`);
    this.graph.initializers.set(v.name, { value: v, data });
    this.consts.set(v, data);
    return v;
  }

  /** An anonymous constant (deduplicated for scalars and small int vectors). */
  constant(data: TensorData): Value {
    const small = data.data.length <= 16;
    const key = small ? `${data.dtype}|${data.dims.join(',')}|${Array.from(data.data as ArrayLike<number | bigint>, (x) => (Object.is(x, -0) ? '-0' : String(x))).join(',')}` : '';
    if (small) {
      const hit = this.scalarCache.get(key);
      if (hit) return hit;
    }
    const v = this.initializer(`const_${this.graph.initializers.size}`, data);
    if (small) this.scalarCache.set(key, v);
    return v;
  }

  scalar(value: number, dtype: DType = 'float32'): Value {
    return this.constant(tensor(dtype, [], [value]));
  }

  ints(values: number[]): Value {
    return this.constant(tensor('int64', [values.length], values));
  }

  constValue(v: Value): TensorData | null {
    return this.consts.get(v) ?? null;
  }

  // ---- generic op ----

  op(type: string, inputs: (Value | null)[], attrs: Record<string, AttrInput> = {}, outputs: number | string[] = 1, domain = ''): Value[] {
    const schema = opSchema(type);
    if (!schema) throw new Error(`GraphBuilder: op ${type} has no registered schema`);
    const a: Record<string, Attr> = {};
    for (const [k, v] of Object.entries(attrs)) a[k] = toAttr(v);
    const infos = schema.infer({ inputs, attrs: a, consts: inputs.map((v) => (v ? this.consts.get(v) ?? null : null)), opset: this.opset, freshDim: (p) => `${p}${this.anonDims++}` });
    const count = typeof outputs === 'number' ? outputs : outputs.length;
    const nodeName = this.unique(this.scoped(type), this.usedNodeNames);
    const outs: Value[] = [];
    for (let i = 0; i < count; i++) {
      const info = infos[i] ?? { dtype: infos[0].dtype, shape: null };
      const nm = typeof outputs === 'number' ? this.unique(count === 1 ? nodeName : `${nodeName}:${i}`) : this.unique(outputs[i]);
      outs.push(new Value(nm, info.dtype, info.shape));
    }
    const node = new Node(type, nodeName, inputs, outs, a, domain);
    for (const o of outs) o.producer = node;
    this.graph.nodes.push(node);
    return outs;
  }

  op1(type: string, inputs: (Value | null)[], attrs: Record<string, AttrInput> = {}, name?: string): Value {
    return this.op(type, inputs, attrs, name ? [name] : 1)[0];
  }

  // ---- typed helpers ----

  add(a: Value, b: Value): Value { return this.op1('Add', [a, b]); }
  sub(a: Value, b: Value): Value { return this.op1('Sub', [a, b]); }
  mul(a: Value, b: Value): Value { return this.op1('Mul', [a, b]); }
  div(a: Value, b: Value): Value { return this.op1('Div', [a, b]); }
  pow(a: Value, b: Value): Value { return this.op1('Pow', [a, b]); }
  max(a: Value, b: Value): Value { return this.op1('Max', [a, b]); }
  min(a: Value, b: Value): Value { return this.op1('Min', [a, b]); }
  matMul(a: Value, b: Value): Value { return this.op1('MatMul', [a, b]); }
  sqrt(x: Value): Value { return this.op1('Sqrt', [x]); }
  erf(x: Value): Value { return this.op1('Erf', [x]); }
  tanh(x: Value): Value { return this.op1('Tanh', [x]); }
  relu(x: Value): Value { return this.op1('Relu', [x]); }
  sigmoid(x: Value): Value { return this.op1('Sigmoid', [x]); }
  exp(x: Value): Value { return this.op1('Exp', [x]); }
  neg(x: Value): Value { return this.op1('Neg', [x]); }
  not(x: Value): Value { return this.op1('Not', [x]); }
  equal(a: Value, b: Value): Value { return this.op1('Equal', [a, b]); }
  greaterOrEqual(a: Value, b: Value): Value { return this.op1('GreaterOrEqual', [a, b]); }
  where(c: Value, a: Value, b: Value): Value { return this.op1('Where', [c, a, b]); }
  cast(x: Value, to: DType): Value { return x.dtype === to ? x : this.op1('Cast', [x], { to: ONNX_DTYPE[to] }); }
  softmax(x: Value, axis = -1): Value { return this.op1('Softmax', [x], { axis }); }
  reshape(x: Value, dims: number[]): Value { return this.op1('Reshape', [x, this.ints(dims)]); }
  reshapeTo(x: Value, shape: Value): Value { return this.op1('Reshape', [x, shape]); }
  transpose(x: Value, perm: number[]): Value { return this.op1('Transpose', [x], { perm }); }
  gather(x: Value, idx: Value, axis = 0): Value { return this.op1('Gather', [x, idx], { axis }); }
  gatherElements(x: Value, idx: Value, axis = 0): Value { return this.op1('GatherElements', [x, idx], { axis }); }
  expand(x: Value, shape: Value): Value { return this.op1('Expand', [x, shape]); }
  concat(xs: Value[], axis: number): Value { return this.op1('Concat', xs, { axis }); }
  shapeOf(x: Value, start?: number, end?: number): Value {
    const attrs: Record<string, AttrInput> = {};
    if (start !== undefined) attrs.start = start;
    if (end !== undefined) attrs.end = end;
    return this.op1('Shape', [x], attrs);
  }

  unsqueeze(x: Value, axes: number[]): Value {
    return this.opset >= 13 ? this.op1('Unsqueeze', [x, this.ints(axes)]) : this.op1('Unsqueeze', [x], { axes });
  }

  squeeze(x: Value, axes: number[]): Value {
    return this.opset >= 13 ? this.op1('Squeeze', [x, this.ints(axes)]) : this.op1('Squeeze', [x], { axes });
  }

  slice(x: Value, starts: number[] | Value, ends: number[] | Value, axes: number[], steps?: number[]): Value {
    const s = Array.isArray(starts) ? this.ints(starts) : starts;
    const e = Array.isArray(ends) ? this.ints(ends) : ends;
    const ins = [x, s, e, this.ints(axes)];
    if (steps) ins.push(this.ints(steps));
    return this.op1('Slice', ins);
  }

  split(x: Value, sizes: number[], axis: number): Value[] {
    return this.opset >= 13 ? this.op('Split', [x, this.ints(sizes)], { axis }, sizes.length) : this.op('Split', [x], { axis, split: sizes }, sizes.length);
  }

  private reduce(op: string, x: Value, axes: number[], keepdims: boolean): Value {
    const axesAsInput = op === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    return axesAsInput
      ? this.op1(op, [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 })
      : this.op1(op, [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  reduceSum(x: Value, axes: number[], keepdims = true): Value { return this.reduce('ReduceSum', x, axes, keepdims); }
  reduceMean(x: Value, axes: number[], keepdims = true): Value { return this.reduce('ReduceMean', x, axes, keepdims); }
  reduceMax(x: Value, axes: number[], keepdims = true): Value { return this.reduce('ReduceMax', x, axes, keepdims); }
  reduceL2(x: Value, axes: number[], keepdims = true): Value { return this.reduce('ReduceL2', x, axes, keepdims); }

  layerNorm(x: Value, scale: Value, bias: Value, eps: number, axis = -1): Value {
    if (this.opset < 17) throw new Error(`LayerNormalization needs opset 17 or later (building for opset ${this.opset})`);
    return this.op1('LayerNormalization', [x, scale, bias], { axis, epsilon: { kind: 'float', value: eps } });
  }

  /** x @ W + b where `weight` is stored [in, out]. */
  linear(x: Value, weight: Value, bias: Value | null): Value {
    const y = this.matMul(x, weight);
    return bias ? this.add(y, bias) : y;
  }

  /** GELU, exact erf form: x · ½ · (1 + erf(x / √2)). */
  gelu(x: Value): Value {
    // opset 20 has Gelu as one op (one kernel forward, one small gradient rule backward)
    if (this.opset >= 20 && this.useGeluOp) return this.op1('Gelu', [x]);
    const inner = this.erf(this.div(x, this.scalar(Math.SQRT2, x.dtype)));
    return this.mul(this.mul(x, this.scalar(0.5, x.dtype)), this.add(inner, this.scalar(1, x.dtype)));
  }
}
