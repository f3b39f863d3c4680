// Matrix products: MatMul (numpy semantics with batch broadcasting) and Gemm.

import type { Dim } from '../ir.js';
import { broadcastShapes, input, intAttr, registerOp } from './registry.js';

registerOp({
  op: 'MatMul',
  infer(ctx) {
    const a = input(ctx, 0, 'MatMul');
    const b = input(ctx, 1, 'MatMul');
    if (a.shape === null || b.shape === null) return [{ dtype: a.dtype, shape: null }];
    const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
    const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
    const k1 = as[as.length - 1];
    const k2 = bs[bs.length - 2];
    if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
      throw new Error(`MatMul: inner dimensions differ ([${a.shape.join(',')}] @ [${b.shape.join(',')}])`);
    }
    const batch = broadcastShapes(as.slice(0, -2), bs.slice(0, -2)) as Dim[];
    const out: Dim[] = [...batch];
    if (a.shape.length !== 1) out.push(as[as.length - 2]);
    if (b.shape.length !== 1) out.push(bs[bs.length - 1]);
    return [{ dtype: a.dtype, shape: out }];
  },
});

registerOp({
  op: 'Gemm',
  infer(ctx) {
    const a = input(ctx, 0, 'Gemm');
    const b = input(ctx, 1, 'Gemm');
    if (a.shape === null || b.shape === null) return [{ dtype: a.dtype, shape: null }];
    const m = intAttr(ctx.attrs, 'transA', 0) ? a.shape[1] : a.shape[0];
    const n = intAttr(ctx.attrs, 'transB', 0) ? b.shape[0] : b.shape[1];
    return [{ dtype: a.dtype, shape: [m, n] }];
  },
});
