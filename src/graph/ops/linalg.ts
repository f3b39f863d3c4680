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

// onnxruntime's contrib FusedMatMul (domain com.microsoft): alpha · op(A) · op(B), op transposing
// the last two dims when transA / transB; float32 only. The MatMul gradient uses it so that a
// transposed operand is read in place (a Transpose before a MatMul of a tensor that is itself a
// Transpose is merged by onnxruntime into one new 4-D Transpose, which it then copies).
registerOp({
  op: 'FusedMatMul',
  infer(ctx) {
    const a = input(ctx, 0, 'FusedMatMul');
    const b = input(ctx, 1, 'FusedMatMul');
    if (a.shape === null || b.shape === null) return [{ dtype: a.dtype, shape: null }];
    if (a.shape.length < 2 || b.shape.length < 2) throw new Error('FusedMatMul: operands need rank ≥ 2');
    const m = intAttr(ctx.attrs, 'transA', 0) ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
    const n = intAttr(ctx.attrs, 'transB', 0) ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2)) as Dim[];
    return [{ dtype: a.dtype, shape: [...batch, m, n] }];
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
