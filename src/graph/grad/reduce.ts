// Gradient rules of reductions (G expanded back over the reduced axes):
//   ReduceSum: G   ReduceMean: G / count   ReduceMax: G at the positions equal to the maximum
//   ReduceL2: G·x / y   ReduceSumSquare: 2·G·x

import { registerGrad } from '../autodiff.js';
import type { GraphBuilder } from '../builder.js';
import type { Node, Value } from '../ir.js';
import { intAttr } from '../ops/registry.js';
import { nodeAxes } from './util.js';

/** G (and the output y) with the reduced axes restored as size 1, then expanded to x's shape. */
function restore(g: GraphBuilder, n: Node, v: Value): Value {
  const x = n.inputs[0]!;
  const keep = intAttr(n.attrs, 'keepdims', 1);
  let r = v;
  if (!keep) {
    const axes = nodeAxes(g, n);
    if (axes === null) throw new Error(`autodiff: ${n.op} without constant axes`);
    const rank = x.rank!;
    r = g.unsqueeze(v, axes.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q));
  }
  return g.expand(r, g.shapeOf(x));
}

registerGrad('ReduceSum', ({ g, node, outGrads }) => [restore(g, node, outGrads[0]!), null]);

registerGrad('ReduceMean', ({ g, node, outGrads }) => {
  const x = node.inputs[0]!;
  const y = node.outputs[0];
  const count = g.cast(g.div(g.op1('Size', [x]), g.op1('Size', [y])), x.dtype);
  return [g.div(restore(g, node, outGrads[0]!), count), null];
});

registerGrad('ReduceMax', ({ g, node, outGrads }) => {
  const x = node.inputs[0]!;
  const isMax = g.equal(x, restore(g, node, node.outputs[0]));
  return [g.where(isMax, restore(g, node, outGrads[0]!), g.scalar(0, x.dtype)), null];
});

registerGrad('ReduceL2', ({ g, node, outGrads }) => {
  const x = node.inputs[0]!;
  return [g.div(g.mul(restore(g, node, outGrads[0]!), x), restore(g, node, node.outputs[0])), null];
});

registerGrad('ReduceSumSquare', ({ g, node, outGrads }) => {
  const x = node.inputs[0]!;
  return [g.mul(g.mul(restore(g, node, outGrads[0]!), x), g.scalar(2, x.dtype)), null];
});
