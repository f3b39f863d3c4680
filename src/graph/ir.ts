// The graph IR: typed values with (possibly symbolic) shapes, nodes that consume and produce
// them, and a graph holding inputs, outputs, initializers (constant tensors) and nodes in
// topological order. It is plain data; the builder creates it and serialise.ts turns it into
// an ONNX ModelProto. Autodiff (training) walks the same structures.

import type { DType, TypedArray } from './dtype.js';

/** A dimension: a known size, or a symbol such as "batch" / "seq". */
export type Dim = number | string;
/** A shape; `null` where the rank itself is unknown. */
export type Shape = Dim[] | null;

/** A constant tensor: element type, dimensions and data in row-major order. */
export interface TensorData {
  dtype: DType;
  dims: number[];
  data: TypedArray;
}

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: TensorData }
  | { kind: 'graph'; value: Graph };

/** Short-hand attribute values accepted by the builder; numbers are ints unless given as `float(x)`. */
export type AttrInput = Attr | number | string | number[] | string[];

export class Value {
  constructor(
    public name: string,
    readonly dtype: DType,
    public shape: Shape,
    public producer: Node | null = null,
  ) {}

  get rank(): number | null {
    return this.shape === null ? null : this.shape.length;
  }
}

export class Node {
  constructor(
    readonly op: string,
    readonly name: string,
    readonly inputs: (Value | null)[],
    readonly outputs: Value[],
    readonly attrs: Record<string, Attr>,
    readonly domain: string = '',
  ) {}
}

export interface Initializer {
  value: Value;
  data: TensorData;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers = new Map<string, Initializer>();
  /** The ai.onnx opset the graph was built for. */
  constructor(public name: string, public opset = 17) {}

  /** Every value name in use (inputs, initializers, node outputs). */
  names(): Set<string> {
    const s = new Set<string>();
    for (const v of this.inputs) s.add(v.name);
    for (const k of this.initializers.keys()) s.add(k);
    for (const n of this.nodes) for (const o of n.outputs) s.add(o.name);
    return s;
  }
}

export function float(value: number): Attr {
  return { kind: 'float', value };
}
export function floats(value: number[]): Attr {
  return { kind: 'floats', value };
}
export function tensorAttr(value: TensorData): Attr {
  return { kind: 'tensor', value };
}

export function toAttr(a: AttrInput): Attr {
  if (typeof a === 'number') return { kind: 'int', value: a };
  if (typeof a === 'string') return { kind: 'string', value: a };
  if (Array.isArray(a)) {
    if (a.length > 0 && typeof a[0] === 'string') return { kind: 'strings', value: a as string[] };
    return { kind: 'ints', value: a as number[] };
  }
  return a;
}
