// Helpers shared by the gradient rules: undoing numpy broadcasting by summing over the
// broadcast axes, zeros of a value's runtime shape, and reading constant axes.

import type { GraphBuilder } from '../builder.js';
import type { Node, Value } from '../ir.js';
import { constInts, intsAttr } from '../ops/registry.js';

/** Sums `grad` over the axes along which `target` was broadcast, giving target's shape. */
export function unbroadcast(g: GraphBuilder, grad: Value, target: Value): Value {
  const gs = grad.shape;
  const ts = target.shape;
  if (gs === null || ts === null) {
    throw new Error(`autodiff: cannot undo broadcasting to ${target.name} without known ranks`);
  }
  if (gs.length === ts.length && gs.every((d, i) => d === ts[i])) return grad;
  const lead = gs.length - ts.length;
  const axes: number[] = [];
  for (let i = 0; i < gs.length; i++) {
    if (i < lead) axes.push(i);
    else if (ts[i - lead] === 1 && gs[i] !== 1) axes.push(i);
  }
  let r = axes.length ? g.reduceSum(grad, axes, true) : grad;
  if (lead > 0) r = g.squeeze(r, Array.from({ length: lead }, (_, i) => i));
  return r;
}

export function zerosLike(g: GraphBuilder, x: Value): Value {
  return g.op1('ConstantOfShape', [g.shapeOf(x)], { value: { kind: 'tensor', value: { dtype: x.dtype, dims: [1], data: x.dtype === 'float64' ? new Float64Array(1) : new Float32Array(1) } } });
}

/** Constant axes of a Reduce, Squeeze or Unsqueeze node (attribute or constant input). */
export function nodeAxes(g: GraphBuilder, n: Node): number[] | null {
  const a = intsAttr(n.attrs, 'axes');
  if (a) return a;
  const v = n.inputs[1];
  return v ? constInts(g.constValue(v)) : null;
}

export function scalarLike(g: GraphBuilder, x: Value, v: number): Value {
  return g.scalar(v, x.dtype);
}
