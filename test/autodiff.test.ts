// Finite-difference checks of every gradient rule (float64 where onnxruntime has float64
// kernels, float32 with a coarser step otherwise), plus the fan-out accumulation of autodiff.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradCheck, type CheckInput } from '../src/runtime/gradcheck.js';
import type { GraphBuilder } from '../src/graph/builder.js';
import type { Value } from '../src/graph/ir.js';
import { tokenPacking } from '../src/models/architectures/layers.js';

let seed = 99;
function rnd(n: number, scale = 1, offset = 0): Float64Array {
  return Float64Array.from({ length: n }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return ((seed / 4294967296) - 0.5) * 2 * scale + offset;
  });
}
function x64(name: string, dims: number[], scale = 1, offset = 0): CheckInput {
  return { name, dtype: 'float64', dims, data: rnd(dims.reduce((a, b) => a * b, 1), scale, offset) };
}
function x32(name: string, dims: number[], scale = 1, offset = 0): CheckInput {
  return { name, dtype: 'float32', dims, data: Float32Array.from(rnd(dims.reduce((a, b) => a * b, 1), scale, offset)) };
}

type Case = [string, (g: GraphBuilder, x: Value[]) => Value, CheckInput[], number?, number?];
const TOL64 = 1e-6;
const TOL32 = 2e-2;

const cases: Case[] = [
  ['Add broadcast', (g, [a, b]) => g.add(a, b), [x64('a', [2, 3, 4]), x64('b', [3, 1])]],
  ['Sub broadcast', (g, [a, b]) => g.sub(a, b), [x64('a', [2, 3]), x64('b', [3])]],
  ['Mul broadcast', (g, [a, b]) => g.mul(a, b), [x64('a', [2, 3, 4]), x64('b', [1, 4])]],
  ['Div', (g, [a, b]) => g.div(a, b), [x64('a', [3, 4]), x64('b', [3, 4], 0.5, 2)]],
  ['Neg', (g, [a]) => g.neg(a), [x64('a', [5])]],
  ['Pow 2', (g, [a]) => g.pow(a, g.scalar(2, 'float64')), [x64('a', [5])]],
  ['Pow 3', (g, [a]) => g.pow(a, g.scalar(3, 'float64')), [x64('a', [5], 1, 2)]],
  ['Sqrt', (g, [a]) => g.sqrt(a), [x64('a', [6], 0.5, 1)]],
  ['Exp', (g, [a]) => g.exp(a), [x64('a', [6])]],
  ['Log', (g, [a]) => g.op1('Log', [a]), [x64('a', [6], 0.5, 1)]],
  ['Reciprocal', (g, [a]) => g.op1('Reciprocal', [a]), [x64('a', [6], 0.5, 2)]],
  ['Tanh', (g, [a]) => g.tanh(a), [x64('a', [6])]],
  ['Sigmoid', (g, [a]) => g.sigmoid(a), [x64('a', [6])]],
  ['Relu', (g, [a]) => g.relu(a), [x64('a', [8])]],
  ['Abs', (g, [a]) => g.op1('Abs', [a]), [x64('a', [8])]],
  ['Max (clamp)', (g, [a]) => g.max(a, g.scalar(0.1, 'float64')), [x64('a', [8])]],
  ['Min', (g, [a, b]) => g.min(a, b), [x64('a', [8]), x64('b', [8])]],
  ['Where', (g, [a, b]) => g.where(g.op1('Greater', [a, b]), g.mul(a, a), b), [x64('a', [8]), x64('b', [8])]],
  ['Cast float32→float64→float32', (g, [a]) => g.cast(g.mul(g.cast(a, 'float64'), g.scalar(3, 'float64')), 'float32'), [x32('a', [4])], TOL32],
  ['Erf (float32)', (g, [a]) => g.erf(a), [x32('a', [6])], TOL32],
  ['GELU formula (float32)', (g, [a]) => g.gelu(a), [x32('a', [6], 2)], TOL32],
  ['Gelu op, opset 20 (float32)', (g, [a]) => g.op1('Gelu', [a]), [x32('a', [6], 2)], TOL32, 20],
  ['MatMul 2-D', (g, [a, b]) => g.matMul(a, b), [x64('a', [3, 4]), x64('b', [4, 5])]],
  // a value rebuilt for the backward pass (attention's dropped probabilities): the same gradients
  ['MatMul of a recomputed Mul', (g, [a, m, b]) => g.matMul(g.recomputeInBackward(g.mul(a, m)), b), [x64('a', [3, 4]), x64('m', [3, 4]), x64('b', [4, 5])]],
  ['recomputed Gelu op into MatMul, opset 20 (float32)', (g, [a, b]) => g.matMul(g.recomputeInBackward(g.op1('Gelu', [a])), b), [x32('a', [3, 4], 2), x32('b', [4, 2])], TOL32, 20],
  ['MatMul batched × weight', (g, [a, b]) => g.matMul(a, b), [x64('a', [2, 3, 4]), x64('b', [4, 5])]],
  ['MatMul batched × batched', (g, [a, b]) => g.matMul(a, b), [x64('a', [2, 2, 3, 4]), x64('b', [2, 2, 4, 3])]],
  // a Linear's weight [out, in] used transposed: dW = Gᵀ·A by one FusedMatMul (float32)
  ['MatMul × transposed 2-D weight, float32', (g, [a, b]) => g.matMul(a, g.transpose(b, [1, 0])), [x32('a', [3, 4]), x32('b', [5, 4])], TOL32],
  ['MatMul batched × transposed 2-D weight, float32', (g, [a, b]) => g.matMul(a, g.transpose(b, [1, 0])), [x32('a', [2, 3, 4]), x32('b', [5, 4])], TOL32],
  // float32: the gradient goes through onnxruntime's FusedMatMul (transA / transB), here on transposed operands as attention's
  ['MatMul batched × batched, float32 (FusedMatMul), transposed operands', (g, [a, b]) => g.matMul(g.transpose(a, [0, 2, 1, 3]), g.transpose(b, [0, 2, 3, 1])), [x32('a', [2, 3, 2, 4]), x32('b', [2, 5, 2, 4])], TOL32],
  ['ReduceSum keepdims 0', (g, [a]) => g.reduceSum(a, [1], false), [x64('a', [2, 3, 4])]],
  ['ReduceSum keepdims 1', (g, [a]) => g.reduceSum(a, [0, 2], true), [x64('a', [2, 3, 4])]],
  ['ReduceMean', (g, [a]) => g.reduceMean(a, [-1], true), [x64('a', [2, 3, 4])]],
  ['ReduceMax', (g, [a]) => g.reduceMax(a, [1], false), [x64('a', [2, 5, 3])]],
  ['ReduceL2', (g, [a]) => g.reduceL2(a, [-1], true), [x64('a', [3, 4])]],
  ['Softmax', (g, [a]) => g.softmax(a, -1), [x64('a', [2, 3, 5])]],
  ['LogSoftmax', (g, [a]) => g.op1('LogSoftmax', [a], { axis: 1 }), [x64('a', [3, 4])]],
  ['Reshape', (g, [a]) => g.mul(g.reshape(a, [0, 2, -1]), g.reshape(a, [0, 2, -1])), [x64('a', [2, 6])]],
  ['Transpose', (g, [a, b]) => g.mul(g.transpose(a, [2, 0, 1]), b), [x64('a', [2, 3, 4]), x64('b', [4, 2, 3])]],
  ['Unsqueeze/Squeeze', (g, [a]) => g.mul(g.squeeze(g.unsqueeze(a, [0, 2]), [0]), g.scalar(2, 'float64')), [x64('a', [3, 4])]],
  ['Expand', (g, [a]) => g.expand(a, g.ints([2, 3, 4])), [x64('a', [3, 1])]],
  ['Concat', (g, [a, b]) => g.concat([a, b, a], 1), [x64('a', [2, 3]), x64('b', [2, 2])]],
  ['Split', (g, [a]) => { const [p, q] = g.split(a, [2, 3], 1); return g.mul(g.reduceSum(p, [1], true), q); }, [x64('a', [2, 5])]],
  ['Split (one part unused)', (g, [a]) => g.split(a, [1, 4], 1)[1], [x64('a', [2, 5])]],
  ['Slice (position table)', (g, [a, b]) => g.mul(g.slice(a, [0], g.shapeOf(b, 0, 1), [0]), b), [x64('a', [7, 3]), x64('b', [4, 3])]],
  ['Slice with start', (g, [a]) => g.slice(a, [1, 2], [3, 5], [0, 1]), [x64('a', [4, 6])]],
  ['Gather rows (embedding)', (g, [a]) => g.gather(a, g.constant({ dtype: 'int64', dims: [2, 3], data: BigInt64Array.from([1n, 4n, 1n, 0n, 2n, 4n]) })), [x64('a', [5, 3])]],
  ['Gather axis 1 scalar (CLS)', (g, [a]) => g.gather(a, g.scalar(0, 'int64'), 1), [x64('a', [2, 3, 4])]],
  ['ScatterND rows into zeros (token unpacking)', (g, [a]) => g.op1('ScatterND', [g.constant({ dtype: 'float64', dims: [5, 3], data: new Float64Array(15) }), g.constant({ dtype: 'int64', dims: [3, 1], data: BigInt64Array.from([3n, 0n, 4n]) }), a]), [x64('a', [3, 3])]],
  ['ScatterND into data (both gradients)', (g, [d, u]) => g.op1('ScatterND', [d, g.constant({ dtype: 'int64', dims: [2, 2], data: BigInt64Array.from([0n, 1n, 2n, 0n]) }), u]), [x64('d', [3, 2, 4]), x64('u', [2, 4])]],
  ['token packing: gather real rows, scatter back (layers.ts)', (g, [a]) => {
    const mask = g.constant({ dtype: 'int64', dims: [2, 3], data: BigInt64Array.from([1n, 1n, 0n, 1n, 0n, 0n]) });
    const p = tokenPacking(g, mask);
    const packed = p.pack(a);
    return p.unpack(g.mul(packed, packed), 4);
  }, [x64('a', [6, 4])]],
  ['GatherElements', (g, [a]) => g.gatherElements(a, g.constant({ dtype: 'int64', dims: [2, 1, 3], data: BigInt64Array.from([0n, 2n, 1n, 1n, 1n, 0n]) }), 1), [x64('a', [2, 3, 3])]],
  ['LayerNormalization', (g, [x, s, b]) => g.layerNorm(x, s, b, 1e-5), [x64('x', [2, 3, 5]), x64('s', [5], 0.5, 1), x64('b', [5])], 1e-4], // onnxruntime keeps the mean and 1/σ in float32
  ['LayerNormalization (float32)', (g, [x, s, b]) => g.layerNorm(x, s, b, 1e-12), [x32('x', [2, 4, 6]), x32('s', [6], 0.5, 1), x32('b', [6])], TOL32],
  ['Fan-out accumulation', (g, [a]) => g.add(g.mul(a, a), g.mul(g.tanh(a), a)), [x64('a', [6])]],
];

for (const [name, build, inputs, tol, opset] of cases) {
  test(`gradient: ${name}`, async () => {
    const r = await gradCheck(build, inputs, { opset });
    const limit = tol ?? (inputs[0].dtype === 'float64' ? TOL64 : TOL32);
    assert.ok(r.maxRelError <= limit, `${name}: relative error ${r.maxRelError.toExponential(2)} > ${limit} (${r.worst})`);
  });
}

test('gradient: exact GELU against its closed form Φ(x) + x·φ(x) over −20 … 20 (float32, no overflow at large |x|)', async () => {
  const { GraphBuilder } = await import('../src/graph/builder.js');
  const { gradients } = await import('../src/graph/autodiff.js');
  await import('../src/graph/grad/index.js');
  const { Session } = await import('../src/runtime/index.js');
  const n = 401;
  const xs = Float32Array.from({ length: n }, (_, i) => -20 + i * 0.1);
  const g = new GraphBuilder('gelu', { opset: 20 });
  const x = g.input('x', 'float32', [n]);
  const y = g.op1('Gelu', [x]);
  g.output(gradients(g, g.reduceSum(y, [0], false), [x]).get(x)!, 'dx');
  const s = await Session.create(g.graph, { opset: 20, cache: false, threads: 1 });
  try {
    const dx = (await s.run({ x: { dtype: 'float32', dims: [n], data: xs } })).dx.data as Float32Array;
    // erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7)
    const erf = (v: number): number => {
      const t = 1 / (1 + 0.3275911 * Math.abs(v));
      const e = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-v * v);
      return v < 0 ? -e : e;
    };
    for (let i = 0; i < n; i++) {
      const v = xs[i];
      const want = 0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-v * v / 2)) / Math.sqrt(2 * Math.PI);
      assert.ok(Number.isFinite(dx[i]) && Math.abs(dx[i] - want) < 1e-6, `x = ${v}: ${dx[i]} against ${want}`);
    }
  } finally {
    await s.release();
  }
});

test('gradient: Gather with repeated indices sums every repeat, the same on 2 threads run after run (onnxruntime\'s ScatterND add races there)', async () => {
  const { GraphBuilder } = await import('../src/graph/builder.js');
  const { gradients } = await import('../src/graph/autodiff.js');
  await import('../src/graph/grad/index.js');
  const { Session } = await import('../src/runtime/index.js');
  const V = 10;
  const H = 384;
  const N = 5000;
  const ids = BigInt64Array.from({ length: N }, (_, i) => BigInt((i * 7919) % V));
  const w = Float32Array.from({ length: N * H }, (_, i) => Math.sin(i) * 0.01);
  const want = new Float64Array(V * H);
  for (let i = 0; i < N; i++) for (let h = 0; h < H; h++) want[Number(ids[i]) * H + h] += w[i * H + h];
  const g = new GraphBuilder('gather', { opset: 18 });
  const table = g.input('table', 'float32', [V, H]);
  const idx = g.input('idx', 'int64', [N]);
  const weights = g.input('w', 'float32', [N, H]);
  const loss = g.reduceSum(g.mul(g.gather(table, idx, 0), weights), [0, 1], false);
  g.output(gradients(g, loss, [table]).get(table)!, 'dtable');
  const s = await Session.create(g.graph, { opset: 18, cache: false, threads: 2 });
  try {
    const feeds = { table: { dtype: 'float32' as const, dims: [V, H], data: new Float32Array(V * H) }, idx: { dtype: 'int64' as const, dims: [N], data: ids }, w: { dtype: 'float32' as const, dims: [N, H], data: w } };
    const first = (await s.run(feeds)).dtable.data as Float32Array;
    let err = 0;
    for (let i = 0; i < V * H; i++) err = Math.max(err, Math.abs(first[i] - want[i]));
    assert.ok(err < 1e-5, `max error ${err} against the float64 sum`);
    for (let r = 0; r < 4; r++) assert.deepEqual((await s.run(feeds)).dtable.data, first, `run ${r + 2} differs`);
  } finally {
    await s.release();
  }
});
