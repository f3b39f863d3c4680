// Gradient rule of MatMul, Y = A·B (batched, numpy broadcasting of the batch dims):
//   dA = G·Bᵀ,  dB = Aᵀ·G, summed over broadcast batch dims. When B is a 2-D weight and A a
//   batch of matrices, dB is one MatMul over the flattened batch: reshape(A)ᵀ · reshape(G).
//   When that weight is itself a Transpose (Linear weights [out, in]), dB = (Gᵀ·A)ᵀ: the
//   Transpose's gradient cancels the outer transpose and dW = Gᵀ·A is one FusedMatMul (no copy).
//   Batched float32 operands of the same rank (attention's Q·Kᵀ and P·V) use onnxruntime's
//   FusedMatMul with transA / transB, reading the forward's operand in place: with a Transpose
//   node, onnxruntime merges it with the operand's own head Transpose into a new 4-D copy.

import { registerGrad } from '../autodiff.js';
import type { GraphBuilder } from '../builder.js';
import type { Value } from '../ir.js';
import { unbroadcast } from './util.js';

function swapLast(g: GraphBuilder, x: Value): Value {
  const r = x.rank;
  if (r === null || r < 2) throw new Error('autodiff: MatMul operands must have known rank ≥ 2');
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return g.transpose(x, perm);
}

/** op(A) · op(B) with onnxruntime's FusedMatMul (op: the transpose of the last two dims when set). */
function fusedMatMul(g: GraphBuilder, a: Value, b: Value, transA: number, transB: number): Value {
  return g.op('FusedMatMul', [a, b], { transA, transB }, 1, 'com.microsoft')[0];
}

registerGrad('MatMul', ({ g, node, outGrads, needs }) => {
  const G = outGrads[0]!;
  const [a, b] = node.inputs as [Value, Value];
  if (a.rank === 1 || b.rank === 1) throw new Error('autodiff: MatMul with 1-D operands is not supported');
  let dA: Value | null = null;
  let dB: Value | null = null;
  const fused = G.dtype === 'float32' && a.rank !== null && a.rank > 2 && a.rank === b.rank && a.rank === G.rank;
  if (needs[0]) dA = unbroadcast(g, fused ? fusedMatMul(g, G, b, 0, 1) : g.matMul(G, swapLast(g, b)), a);
  if (needs[1] && fused) {
    dB = unbroadcast(g, fusedMatMul(g, a, G, 1, 0), b);
  } else if (needs[1] && b.rank === 2) {
    const k = b.shape![0];
    const n = b.shape![1];
    if ((a.rank ?? 0) > 2 && (typeof k !== 'number' || typeof n !== 'number')) throw new Error('autodiff: MatMul weight needs static dims');
    const a2 = (a.rank ?? 0) > 2 ? g.reshape(a, [-1, k as number]) : a;
    const g2 = (a.rank ?? 0) > 2 ? g.reshape(G, [-1, n as number]) : G;
    // a weight used transposed (Linear's [out, in] → [in, out]): dB = (Gᵀ·A)ᵀ, so that the
    // Transpose's own gradient cancels this one and dW = Gᵀ·A comes out of one FusedMatMul
    const transposedWeight = b.producer?.op === 'Transpose' && G.dtype === 'float32';
    dB = transposedWeight ? g.transpose(fusedMatMul(g, g2, a2, 1, 0), [1, 0]) : g.matMul(g.transpose(a2, [1, 0]), g2);
  } else if (needs[1]) {
    dB = unbroadcast(g, g.matMul(swapLast(g, a), G), b);
  }
  return [dA, dB];
});
