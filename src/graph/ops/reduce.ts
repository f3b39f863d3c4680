// Reductions (ReduceSum/Mean/Max/Min/Prod/L2/SumSquare/LogSumExp), ArgMax/ArgMin and TopK.
// Axes come from the `axes` attribute (opset < 18; ReduceSum < 13) or a constant second input.

import type { Dim } from '../ir.js';
import { constInts, input, intAttr, intsAttr, normAxis, registerOp } from './registry.js';

for (const op of ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp']) {
  registerOp({
    op,
    infer(ctx) {
      const x = input(ctx, 0, op);
      const keep = intAttr(ctx.attrs, 'keepdims', 1);
      const axes = intsAttr(ctx.attrs, 'axes') ?? constInts(ctx.consts[1] ?? null);
      if (x.shape === null) return [{ dtype: x.dtype, shape: null }];
      if (axes === null) {
        if (ctx.inputs[1]) return [{ dtype: x.dtype, shape: null }];
        return [{ dtype: x.dtype, shape: keep ? x.shape.map(() => 1) : [] }];
      }
      const rank = x.shape.length;
      const set = new Set(axes.map((a) => normAxis(a, rank)));
      const out: Dim[] = [];
      x.shape.forEach((d, i) => {
        if (!set.has(i)) out.push(d);
        else if (keep) out.push(1);
      });
      return [{ dtype: x.dtype, shape: out }];
    },
  });
}

for (const op of ['ArgMax', 'ArgMin']) {
  registerOp({
    op,
    infer(ctx) {
      const x = input(ctx, 0, op);
      if (x.shape === null) return [{ dtype: 'int64', shape: null }];
      const axis = normAxis(intAttr(ctx.attrs, 'axis', 0), x.shape.length);
      const keep = intAttr(ctx.attrs, 'keepdims', 1);
      const out = x.shape.flatMap((d, i) => (i === axis ? (keep ? [1] : []) : [d]));
      return [{ dtype: 'int64', shape: out }];
    },
  });
}

registerOp({
  op: 'TopK',
  infer(ctx) {
    const x = input(ctx, 0, 'TopK');
    const k = constInts(ctx.consts[1] ?? null);
    if (x.shape === null) return [{ dtype: x.dtype, shape: null }, { dtype: 'int64', shape: null }];
    const axis = normAxis(intAttr(ctx.attrs, 'axis', -1), x.shape.length);
    const shape: Dim[] = [...x.shape];
    shape[axis] = k && k.length === 1 ? k[0] : `topk_${axis}`;
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape: [...shape] }];
  },
});
