// Op registry: for each ONNX op type the builder knows, a shape/dtype inference rule.
// Rules live by op family (elementwise.ts, linalg.ts, reduce.ts, shape.ts, nn.ts); autodiff
// rules for training register beside them in their own registry, so the builder never changes
// when an op or a gradient is added.

import type { DType } from '../dtype.js';
import type { Attr, Dim, Shape, TensorData, Value } from '../ir.js';

export interface OutputInfo {
  dtype: DType;
  shape: Shape;
}

export interface InferContext {
  inputs: (Value | null)[];
  attrs: Record<string, Attr>;
  /** Constant data of each input when known at build time (initializers, Constant nodes). */
  consts: (TensorData | null)[];
  opset: number;
  /**
   * A new symbolic dimension name (`prefix` and a number), unique within the graph being built:
   * the numbering restarts with each graph, so the same graph built twice serialises to the same
   * bytes (what the optimised-model cache keys on).
   */
  freshDim(prefix: string): string;
}

export interface OpSchema {
  op: string;
  infer(ctx: InferContext): OutputInfo[];
}

const schemas = new Map<string, OpSchema>();

export function registerOp(schema: OpSchema): void {
  schemas.set(schema.op, schema);
}

export function opSchema(op: string): OpSchema | undefined {
  return schemas.get(op);
}

// ---- helpers shared by the rules ----

export function intAttr(attrs: Record<string, Attr>, name: string, dflt: number): number {
  const a = attrs[name];
  return a && a.kind === 'int' ? a.value : dflt;
}

export function intsAttr(attrs: Record<string, Attr>, name: string): number[] | null {
  const a = attrs[name];
  return a && a.kind === 'ints' ? a.value : null;
}

/** Integer values of a constant int64/int32 tensor, or null. */
export function constInts(t: TensorData | null): number[] | null {
  if (!t) return null;
  if (t.dtype === 'int64') return Array.from(t.data as BigInt64Array, (x) => Number(x));
  if (t.dtype === 'int32') return Array.from(t.data as Int32Array);
  return null;
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Numpy-style broadcast of two shapes; symbolic dims are kept when they agree or meet 1. */
export function broadcastShapes(a: Shape, b: Shape): Shape {
  if (a === null || b === null) return null;
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (da === db) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number') {
      throw new Error(`shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast`);
    } else out.push(typeof da === 'number' ? da : db);
  }
  return out;
}

export function sameAs(i = 0): (ctx: InferContext) => OutputInfo[] {
  return (ctx) => {
    const v = ctx.inputs[i];
    if (!v) throw new Error('missing input');
    return [{ dtype: v.dtype, shape: v.shape }];
  };
}

export function input(ctx: InferContext, i: number, op: string): Value {
  const v = ctx.inputs[i];
  if (!v) throw new Error(`${op}: input ${i} is required`);
  return v;
}
