// Gradient rule of MatMul, Y = A·B (batched, numpy broadcasting of the batch dims):
//   dA = G·Bᵀ,  dB = Aᵀ·G, summed over broadcast batch dims. When B is a 2-D weight and A a
//   batch of matrices, dB is one MatMul over the flattened batch: reshape(A)ᵀ · reshape(G).

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

registerGrad('MatMul', ({ g, node, outGrads, needs }) => {
  const G = outGrads[0]!;
  const [a, b] = node.inputs as [Value, Value];
  if (a.rank === 1 || b.rank === 1) throw new Error('autodiff: MatMul with 1-D operands is not supported');
  let dA: Value | null = null;
  let dB: Value | null = null;
  if (needs[0]) dA = unbroadcast(g, g.matMul(G, swapLast(g, b)), a);
  if (needs[1]) {
    if (b.rank === 2 && (a.rank ?? 0) > 2) {
      const k = b.shape![0];
      const n = b.shape![1];
      const a2 = g.reshape(a, [-1, typeof k === 'number' ? k : 0]);
      const g2 = g.reshape(G, [-1, typeof n === 'number' ? n : 0]);
      if (typeof k !== 'number' || typeof n !== 'number') throw new Error('autodiff: MatMul weight needs static dims');
      dB = g.matMul(g.transpose(a2, [1, 0]), g2);
    } else {
      dB = unbroadcast(g, g.matMul(swapLast(g, a), G), b);
    }
  }
  return [dA, dB];
});
