// Gradient rules of data-movement ops: the gradient is moved back the way the data came.
//   Reshape/Squeeze/Unsqueeze/Flatten: reshape G to x's shape   Transpose: inverse permutation
//   Expand: sum over the expanded axes   Concat: slice G per input   Split: concatenate the Gs
//   Slice (step 1): pad G with zeros back to x's shape
//   Gather: scatter-add G into zeros of the data's shape (the embedding-table gradient)
//   GatherElements: scatter-add along the axis
//   ScatterND (no reduction): updates get GatherND(G, indices); data gets G with the written
//   positions zeroed (ScatterND of zeros)

import { registerGrad } from '../autodiff.js';
import type { GraphBuilder } from '../builder.js';
import type { Value } from '../ir.js';
import { constInts, intAttr, intsAttr, normAxis } from '../ops/registry.js';
import { unbroadcast, zerosLike } from './util.js';

const reshapeBack = ({ g, node, outGrads }: { g: GraphBuilder; node: { inputs: (Value | null)[] }; outGrads: (Value | null)[] }): (Value | null)[] => {
  const x = node.inputs[0]!;
  return [g.reshapeTo(outGrads[0]!, g.shapeOf(x)), ...node.inputs.slice(1).map(() => null)];
};
for (const op of ['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']) registerGrad(op, reshapeBack);

registerGrad('Transpose', ({ g, node, outGrads }) => {
  const x = node.inputs[0]!;
  const perm = intsAttr(node.attrs, 'perm') ?? Array.from({ length: x.rank! }, (_, i) => x.rank! - 1 - i);
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return [g.transpose(outGrads[0]!, inv)];
});

registerGrad('Expand', ({ g, node, outGrads }) => [unbroadcast(g, outGrads[0]!, node.inputs[0]!), null]);

registerGrad('Concat', ({ g, node, outGrads, needs }) => {
  const G = outGrads[0]!;
  const axis = normAxis(intAttr(node.attrs, 'axis', 0), G.rank!);
  let start: Value = g.ints([0]);
  return node.inputs.map((v, i) => {
    const size = g.shapeOf(v!, axis, axis + 1);
    const end = g.add(start, size);
    const r = needs[i] ? g.slice(G, start, end, [axis]) : null;
    start = end;
    return r;
  });
});

registerGrad('Split', ({ g, node, outGrads }) => {
  const axis = intAttr(node.attrs, 'axis', 0);
  const parts = outGrads.map((G, i) => G ?? zerosLike(g, node.outputs[i]));
  return [g.concat(parts, axis), null];
});

registerGrad('Slice', ({ g, node, outGrads }) => {
  const [x, starts, , axesV, stepsV] = node.inputs;
  const G = outGrads[0]!;
  const rank = x!.rank!;
  const st = constInts(g.constValue(starts!));
  const axes = axesV ? constInts(g.constValue(axesV)) : st ? st.map((_, i) => i) : null;
  const steps = stepsV ? constInts(g.constValue(stepsV)) : null;
  if (!st || !axes || st.some((s) => s < 0) || (steps && steps.some((s) => s !== 1))) {
    throw new Error('autodiff: Slice gradient needs constant non-negative starts, constant axes and step 1');
  }
  // pads = [begin_0 … begin_{r-1}, end_0 … end_{r-1}], end_a = dim_a(x) − start_a − dim_a(G)
  const begin: Value[] = [];
  const end: Value[] = [];
  for (let a = 0; a < rank; a++) {
    const k = axes.findIndex((ax) => normAxis(ax, rank) === a);
    if (k < 0) {
      begin.push(g.ints([0]));
      end.push(g.ints([0]));
    } else {
      begin.push(g.ints([st[k]]));
      end.push(g.sub(g.sub(g.shapeOf(x!, a, a + 1), g.ints([st[k]])), g.shapeOf(G, a, a + 1)));
    }
  }
  const pads = g.concat([...begin, ...end], 0);
  const padded = g.op1('Pad', [G, pads]);
  padded.shape = x!.shape;
  return [padded, null, null, null, null];
});

registerGrad('Gather', ({ g, node, outGrads }) => {
  const [data, idx] = node.inputs as [Value, Value];
  const G = outGrads[0]!;
  const axis = normAxis(intAttr(node.attrs, 'axis', 0), data.rank!);
  // indices known distinct (token packing's positions) scatter directly; others may repeat
  const scatter = (d: Value, gr: Value): Value => (g.distinct.has(idx) ? g.op1('ScatterND', [zerosLike(g, d), g.unsqueeze(idx, [-1]), gr]) : scatterAddRows(g, d, idx, gr));
  if (axis === 0) return [scatter(data, G), null];
  // move the gathered axis to the front, scatter, move it back
  const r = data.rank!;
  const permD = [axis, ...Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis)];
  const inv = new Array<number>(r);
  permD.forEach((p, i) => (inv[p] = i));
  const ir = idx.rank!;
  const gRank = G.rank!;
  // G has dims data[:axis] + idx + data[axis+1:]; bring the idx dims to the front
  const permG = [...Array.from({ length: ir }, (_, i) => axis + i), ...Array.from({ length: axis }, (_, i) => i), ...Array.from({ length: gRank - axis - ir }, (_, i) => axis + ir + i)];
  const dT = g.transpose(data, permD);
  const gT = g.transpose(G, permG);
  return [g.transpose(scatter(dT, gT), inv), null];
});

/**
 * zeros(d) with the rows of `gr` (idx.shape + d.shape[1:]) added at rows `idx` of d, summing
 * rows whose index repeats, deterministically: onnxruntime's ScatterND with reduction add races
 * on repeated indices when it runs on several threads (lost additions: max error 0.15 against
 * 3e-8 single-threaded, in test/autodiff.test.ts; onnxruntime issue 18048), and an embedding's
 * ids repeat in every batch. So the repeats are summed first, in float64: the N rows sorted by
 * index (stably: TopK of inverse·N + position, with u, inverse, counts = Unique(idx)), their
 * running sum (CumSum), the sum of each index's rows as the difference of the running sum at
 * the ends of its run; then one ScatterND of the U distinct rows. O(N log N + N·D), no races.
 */
function scatterAddRows(g: GraphBuilder, d: Value, idx: Value, gr: Value): Value {
  const flat = g.reshape(idx, [-1]);
  const [uniq, , inverse, counts] = g.op('Unique', [flat], { sorted: 1 }, 4);
  const n = g.shapeOf(flat); // [N]
  const rows = g.cast(g.reshape(g.reshapeTo(gr, g.concat([n, g.shapeOf(d, 1)], 0)), [0, -1]), 'float64'); // [N, D]
  const position = g.op1('Range', [g.scalar(0, 'int64'), g.reshape(n, []), g.scalar(1, 'int64')]);
  const key = g.add(g.mul(inverse, g.reshape(n, [])), position);
  const [, order] = g.op('TopK', [key, n], { axis: 0, largest: 0, sorted: 1 }, 2);
  const running = g.op1('CumSum', [g.gather(rows, order, 0), g.scalar(0, 'int64')]);
  const zeroRow = g.op1('ConstantOfShape', [g.concat([g.ints([1]), g.shapeOf(rows, 1)], 0)], { value: { kind: 'tensor', value: { dtype: 'float64', dims: [1], data: new Float64Array(1) } } });
  const padded = g.concat([zeroRow, running], 0); // [N + 1, D]: padded[i] = sum of the first i sorted rows
  const ends = g.op1('CumSum', [counts, g.scalar(0, 'int64')]);
  const sums = g.sub(g.gather(padded, ends, 0), g.gather(padded, g.sub(ends, counts), 0)); // [U, D]
  const shaped = g.reshapeTo(g.cast(sums, gr.dtype), g.concat([g.shapeOf(uniq), g.shapeOf(d, 1)], 0));
  return g.op1('ScatterND', [zerosLike(g, d), g.unsqueeze(uniq, [-1]), shaped]);
}

registerGrad('GatherElements', ({ g, node, outGrads }) => {
  const [data, idx] = node.inputs as [Value, Value];
  const axis = intAttr(node.attrs, 'axis', 0);
  return [g.op1('ScatterElements', [zerosLike(g, data), idx, outGrads[0]!], { axis, reduction: 'add' }), null];
});

registerGrad('ScatterND', ({ g, node, outGrads, needs }) => {
  const [data, idx, updates] = node.inputs as [Value, Value, Value];
  const reduction = node.attrs.reduction;
  if (reduction !== undefined && !(reduction.kind === 'string' && reduction.value === 'none')) {
    throw new Error(`autodiff: ScatterND with reduction ${JSON.stringify(reduction)} has no gradient rule`);
  }
  const G = outGrads[0]!;
  return [
    needs[0] ? g.op1('ScatterND', [G, idx, zerosLike(g, updates)]) : null,
    null,
    needs[2] ? g.op1('GatherND', [G, idx]) : null,
  ];
});
