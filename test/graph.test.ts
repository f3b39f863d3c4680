// Tests for src/graph: shape and dtype inference of every registered op family (static and
// symbolic dims), builder naming and constant deduplication, ModelProto serialisation round
// trips, dead-node pruning, and numerical checks of the builder helpers run in onnxruntime
// against plain-JS reference computations.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  GraphBuilder,
  float,
  floats,
  irVersionFor,
  parseModelProto,
  prune,
  tensor,
  tensorAttr,
  toModelProto,
  type Dim,
  type Graph,
  type Shape,
  type TensorData,
  type Value,
} from '../src/graph/index.js';
import { Session, type Feeds, type Fetches } from '../src/runtime/index.js';
import type onnxProto from 'onnx-proto';

type NodeP = onnxProto.onnx.NodeProto;

// Large enough to mean "to the end" for Slice, exactly representable as a double and an int64.
const BIG = 2 ** 62;

function shapeOf(v: Value): Shape {
  return v.shape;
}

function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

async function runGraph(g: Graph, feeds: Feeds, opset = 17): Promise<Fetches> {
  const s = await Session.create(g, { opset, cache: false, threads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

function f32(dims: number[], values: ArrayLike<number>): TensorData {
  return tensor('float32', dims, values);
}

/** Deterministic pseudo-random values in [-scale, scale). */
function rand(n: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(((s / 2 ** 32) * 2 - 1) * scale);
  }
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const tol = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= tol)) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (tolerance ${tol})`);
  }
}

/** erf in float64: Taylor series near 0, continued fraction for erfc further out. */
function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-18) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  let frac = ax;
  for (let k = 80; k >= 1; k--) frac = ax + k / 2 / frac;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / frac;
  return Math.sign(x) * (1 - erfc);
}

describe('erf reference', () => {
  test('matches known values', () => {
    assertClose([erf64(0), erf64(0.5), erf64(1), erf64(-1.5), erf64(2), erf64(3), erf64(-4)],
      [0, 0.5204998778130465, 0.8427007929497149, -0.9661051464753108, 0.9953222650189527, 0.9999779095030014, -0.9999999845827421], 1e-14);
  });
});

// ---------------------------------------------------------------------------------------------
describe('shape inference', () => {
  test('broadcasting arithmetic keeps symbolic dims and reports both shapes on a mismatch', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 1, 4]);
    const y = b.input('y', 'float32', [3, 1]);
    const s = b.add(x, y);
    assert.deepEqual(shapeOf(s), ['b', 3, 4]);
    assert.equal(s.dtype, 'float32');
    assert.deepEqual(shapeOf(b.mul(b.input('p', 'float32', ['b', 's']), b.input('q', 'float32', [1, 's']))), ['b', 's']);
    assert.deepEqual(shapeOf(b.sub(x, b.scalar(2))), ['b', 1, 4]);
    // a static dim meeting a symbol wins (the symbol must be 1 or equal to it)
    assert.deepEqual(shapeOf(b.div(b.input('r', 'float32', [5, 1, 1]), x)), [5, 1, 4]);
    const m = b.input('m', 'float32', [2, 3]);
    const n = b.input('n', 'float32', [4, 3]);
    assert.throws(() => b.add(m, n), (e: Error) => e.message.includes('[2,3]') && e.message.includes('[4,3]'));
    assert.throws(() => b.mul(b.input('u', 'float32', ['b', 5]), b.input('v', 'float32', [6])), /\[b,5\].*\[6\]/);
    // unknown rank propagates as unknown
    assert.equal(shapeOf(b.add(b.input('z', 'float32', null), x)), null);
  });

  test('comparisons give bool, Where takes the dtype of its branches, unary ops keep shape', () => {
    const b = new GraphBuilder('g');
    const a = b.input('a', 'int64', ['b', 's']);
    const eq = b.equal(a, b.scalar(0, 'int64'));
    assert.equal(eq.dtype, 'bool');
    assert.deepEqual(shapeOf(eq), ['b', 's']);
    const x = b.input('x', 'float32', ['b', 's', 8]);
    const w = b.where(b.unsqueeze(eq, [-1]), x, b.scalar(-1));
    assert.equal(w.dtype, 'float32');
    assert.deepEqual(shapeOf(w), ['b', 's', 8]);
    assert.deepEqual(shapeOf(b.tanh(x)), ['b', 's', 8]);
    const nan = b.op1('IsNaN', [x]);
    assert.equal(nan.dtype, 'bool');
    assert.deepEqual(shapeOf(nan), ['b', 's', 8]);
  });

  test('MatMul: batched, broadcast batch dims, 1-D operands, inner mismatch', () => {
    const b = new GraphBuilder('g');
    const mm = (a: Dim[], c: Dim[]): Shape => shapeOf(b.matMul(b.input('a', 'float32', a), b.input('c', 'float32', c)));
    assert.deepEqual(mm(['b', 2, 3, 4], [4, 5]), ['b', 2, 3, 5]);
    assert.deepEqual(mm([2, 1, 3, 4], [5, 4, 6]), [2, 5, 3, 6]);
    assert.deepEqual(mm(['b', 's', 8], [8, 16]), ['b', 's', 16]);
    assert.deepEqual(mm(['b', 'h', 's', 'd'], ['b', 'h', 'd', 's']), ['b', 'h', 's', 's']);
    assert.deepEqual(mm([4], [4, 5]), [5]);
    assert.deepEqual(mm([3, 4], [4]), [3]);
    assert.deepEqual(mm([4], [4]), []);
    assert.deepEqual(mm([7, 3, 4], [4]), [7, 3]);
    assert.deepEqual(mm([4], [7, 4, 5]), [7, 5]);
    assert.throws(() => mm([3, 4], [5, 6]), /MatMul: inner dimensions differ \(\[3,4\] @ \[5,6\]\)/);
    assert.throws(() => mm([4], [3]), /inner dimensions differ/);
    // a symbolic inner dim cannot be checked, so it is accepted
    assert.deepEqual(mm([3, 'k'], [5, 6]), [3, 6]);
  });

  test('Reshape with 0 (copy) and -1 (infer)', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [2, 3, 4]);
    assert.deepEqual(shapeOf(b.reshape(x, [0, -1])), [2, 12]);
    assert.deepEqual(shapeOf(b.reshape(x, [-1, 2, 3])), [4, 2, 3]);
    assert.deepEqual(shapeOf(b.reshape(x, [0, 0, 2, 2])), [2, 3, 2, 2]);
    assert.deepEqual(shapeOf(b.reshape(x, [24])), [24]);
    const h = b.input('h', 'float32', ['b', 's', 12]);
    assert.deepEqual(shapeOf(b.reshape(h, [0, 0, 3, 4])), ['b', 's', 3, 4]);
    const flat = shapeOf(b.reshape(h, [-1, 12]));
    assert.ok(flat !== null && flat.length === 2 && typeof flat[0] === 'string' && flat[1] === 12, `got ${JSON.stringify(flat)}`);
    // a target taken whole from another value's Shape has that value's (symbolic) shape
    assert.deepEqual(shapeOf(b.reshapeTo(x, b.shapeOf(h))), ['b', 's', 12]);
    // a target computed at run time otherwise leaves the rank unknown
    assert.equal(shapeOf(b.reshapeTo(x, b.concat([b.shapeOf(h, 0, 1), b.ints([-1])], 0))), null);
  });

  test('Transpose with and without perm', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 's', 'h', 'd']);
    assert.deepEqual(shapeOf(b.transpose(x, [0, 2, 1, 3])), ['b', 'h', 's', 'd']);
    assert.deepEqual(shapeOf(b.transpose(x, [0, 2, 3, 1])), ['b', 'h', 'd', 's']);
    assert.deepEqual(shapeOf(b.op1('Transpose', [x])), ['d', 'h', 's', 'b']);
  });

  test('Unsqueeze / Squeeze, opset 13+ input form', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 's']);
    const u = b.unsqueeze(x, [1, -1]);
    assert.deepEqual(shapeOf(u), ['b', 1, 's', 1]);
    assert.equal(u.producer!.inputs.length, 2);
    assert.equal(u.producer!.attrs.axes, undefined);
    assert.deepEqual(shapeOf(b.unsqueeze(x, [0])), [1, 'b', 's']);
    const sq = b.squeeze(u, [1, 3]);
    assert.deepEqual(shapeOf(sq), ['b', 's']);
    assert.equal(sq.producer!.inputs.length, 2);
    assert.deepEqual(shapeOf(b.squeeze(u, [-1])), ['b', 1, 's']);
    // no axes: every static 1 goes
    assert.deepEqual(shapeOf(b.op1('Squeeze', [b.input('y', 'float32', [1, 'b', 1, 3])])), ['b', 3]);
  });

  test('Unsqueeze / Squeeze / Split / ReduceSum, opset 11 attribute form', () => {
    const b = new GraphBuilder('g', { opset: 11 });
    assert.equal(b.opset, 11);
    const x = b.input('x', 'float32', ['b', 6]);
    const u = b.unsqueeze(x, [0, 3]);
    assert.deepEqual(shapeOf(u), [1, 'b', 6, 1]);
    assert.equal(u.producer!.inputs.length, 1);
    assert.deepEqual(u.producer!.attrs.axes, { kind: 'ints', value: [0, 3] });
    const sq = b.squeeze(u, [0, -1]);
    assert.deepEqual(shapeOf(sq), ['b', 6]);
    assert.equal(sq.producer!.inputs.length, 1);
    assert.deepEqual(sq.producer!.attrs.axes, { kind: 'ints', value: [0, -1] });
    const parts = b.split(x, [2, 4], 1);
    assert.deepEqual(parts.map(shapeOf), [['b', 2], ['b', 4]]);
    assert.equal(parts[0].producer!.inputs.length, 1);
    assert.deepEqual(parts[0].producer!.attrs.split, { kind: 'ints', value: [2, 4] });
    const r = b.reduceSum(x, [1], false);
    assert.deepEqual(shapeOf(r), ['b']);
    assert.equal(r.producer!.inputs.length, 1);
    assert.deepEqual(r.producer!.attrs.axes, { kind: 'ints', value: [1] });
    assert.throws(() => b.layerNorm(x, b.scalar(1), b.scalar(0), 1e-5), /opset 17/);
  });

  test('Concat along static and symbolic axes', () => {
    const b = new GraphBuilder('g');
    const p = b.input('p', 'float32', ['b', 2, 4]);
    const q = b.input('q', 'float32', ['b', 3, 4]);
    assert.deepEqual(shapeOf(b.concat([p, q], 1)), ['b', 5, 4]);
    assert.deepEqual(shapeOf(b.concat([p, q, p], -2)), ['b', 7, 4]);
    const sym = shapeOf(b.concat([p, q], 0));
    assert.ok(sym !== null && typeof sym[0] === 'string' && sym[1] === 2 && sym[2] === 4, `got ${JSON.stringify(sym)}`);
    assert.equal(shapeOf(b.concat([p, b.input('r', 'float32', null)], 1)), null);
  });

  test('Gather and GatherElements', () => {
    const b = new GraphBuilder('g');
    const table = b.input('table', 'float32', [100, 8]);
    const ids = b.input('ids', 'int64', ['b', 's']);
    assert.deepEqual(shapeOf(b.gather(table, ids)), ['b', 's', 8]);
    const h = b.input('h', 'float32', ['b', 's', 8]);
    const g0 = b.gather(h, b.scalar(0, 'int64'), 1);
    assert.deepEqual(shapeOf(g0), ['b', 8]);
    assert.equal(g0.dtype, 'float32');
    assert.deepEqual(shapeOf(b.gather(h, b.ints([0, 2]), -1)), ['b', 's', 2]);
    assert.deepEqual(shapeOf(b.gatherElements(h, b.input('i', 'int64', ['b', 1, 8]), 1)), ['b', 1, 8]);
  });

  test('Slice with constant starts/ends/steps, negative indices and negative steps', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 10, 4]);
    assert.deepEqual(shapeOf(b.slice(x, [2], [8], [1])), ['b', 6, 4]);
    assert.deepEqual(shapeOf(b.slice(x, [2], [8], [1], [2])), ['b', 3, 4]);
    assert.deepEqual(shapeOf(b.slice(x, [-3], [BIG], [1])), ['b', 3, 4]);
    assert.deepEqual(shapeOf(b.slice(x, [1, 0], [-1, 2], [1, 2])), ['b', 8, 2]);
    assert.deepEqual(shapeOf(b.slice(x, [-1], [-BIG], [1], [-1])), ['b', 10, 4]);
    assert.deepEqual(shapeOf(b.slice(x, [8], [1], [1], [-3])), ['b', 3, 4]);
    assert.deepEqual(shapeOf(b.slice(x, [3], [3], [1])), ['b', 0, 4]);
    assert.deepEqual(shapeOf(b.slice(x, [5], [2], [1])), ['b', 0, 4]);
    // starts below -dim clamp to the first element when stepping backwards
    assert.deepEqual(shapeOf(b.slice(x, [-20], [-BIG], [1], [-1])), ['b', 1, 4]);
    assert.deepEqual(shapeOf(b.slice(x, [20], [-BIG], [1], [-2])), ['b', 5, 4]);
    // symbolic dims: whole-axis slices keep the symbol, others get a fresh one
    assert.deepEqual(shapeOf(b.slice(x, [0], [BIG], [0])), ['b', 10, 4]);
    assert.deepEqual(shapeOf(b.slice(x, [-1], [-BIG], [0], [-1])), ['b', 10, 4]);
    const part = shapeOf(b.slice(x, [1], [BIG], [0]));
    assert.ok(part !== null && typeof part[0] === 'string' && part[0] !== 'b' && part[1] === 10, `got ${JSON.stringify(part)}`);
  });

  test('Split into given sizes and into num_outputs (opset 18)', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 10]);
    const parts = b.split(x, [3, 7], 1);
    assert.deepEqual(parts.map(shapeOf), [['b', 3], ['b', 7]]);
    assert.equal(parts[0].producer!.inputs.length, 2);
    assert.equal(parts[0].producer, parts[1].producer);
    const b18 = new GraphBuilder('g', { opset: 18 });
    const y = b18.input('y', 'float32', [6, 'b']);
    const thirds = b18.op('Split', [y], { axis: 0, num_outputs: 3 }, 3);
    assert.deepEqual(thirds.map(shapeOf), [[2, 'b'], [2, 'b'], [2, 'b']]);
    assert.throws(() => b.op('Split', [x], { axis: 0 }), /split sizes or num_outputs/);
  });

  test('Reduce* with keepdims 1 and 0, attribute and input forms', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 's', 8]);
    assert.deepEqual(shapeOf(b.reduceMean(x, [-1])), ['b', 's', 1]);
    assert.deepEqual(shapeOf(b.reduceMean(x, [-1], false)), ['b', 's']);
    assert.deepEqual(shapeOf(b.reduceMax(x, [1], true)), ['b', 1, 8]);
    assert.deepEqual(shapeOf(b.reduceL2(x, [0, 2], false)), ['s']);
    const rs = b.reduceSum(x, [1], false);
    assert.deepEqual(shapeOf(rs), ['b', 8]);
    assert.equal(rs.producer!.inputs.length, 2, 'ReduceSum takes axes as an input from opset 13');
    const rm = b.reduceMean(x, [1]);
    assert.equal(rm.producer!.inputs.length, 1, 'ReduceMean takes axes as an attribute before opset 18');
    assert.deepEqual(rm.producer!.attrs.axes, { kind: 'ints', value: [1] });
    assert.deepEqual(rm.producer!.attrs.keepdims, { kind: 'int', value: 1 });
    // no axes: reduce everything
    assert.deepEqual(shapeOf(b.op1('ReduceMin', [x], { keepdims: 0 })), []);
    assert.deepEqual(shapeOf(b.op1('ReduceProd', [x])), [1, 1, 1]);
    const b18 = new GraphBuilder('g', { opset: 18 });
    const y = b18.input('y', 'float32', ['b', 's', 8]);
    const m18 = b18.reduceMean(y, [1], false);
    assert.deepEqual(shapeOf(m18), ['b', 8]);
    assert.equal(m18.producer!.inputs.length, 2);
    assert.equal(m18.producer!.attrs.axes, undefined);
  });

  test('ArgMax / ArgMin give int64', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 's', 8]);
    const a = b.op1('ArgMax', [x], { axis: -1, keepdims: 0 });
    assert.equal(a.dtype, 'int64');
    assert.deepEqual(shapeOf(a), ['b', 's']);
    assert.deepEqual(shapeOf(b.op1('ArgMax', [x], { axis: 1 })), ['b', 1, 8]);
    assert.deepEqual(shapeOf(b.op1('ArgMin', [x])), [1, 's', 8]);
  });

  test('LayerNormalization and its statistics outputs', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 's', 8]);
    const scale = b.initializer('scale', f32([8], new Array(8).fill(1)));
    const bias = b.initializer('bias', f32([8], new Array(8).fill(0)));
    const y = b.layerNorm(x, scale, bias, 1e-12);
    assert.deepEqual(shapeOf(y), ['b', 's', 8]);
    assert.deepEqual(y.producer!.attrs.epsilon, { kind: 'float', value: 1e-12 });
    const [out, mean, inv] = b.op('LayerNormalization', [x, scale, bias], { axis: -1 }, 3);
    assert.deepEqual(shapeOf(out), ['b', 's', 8]);
    assert.deepEqual(shapeOf(mean), ['b', 's', 1]);
    assert.deepEqual(shapeOf(inv), ['b', 's', 1]);
    assert.deepEqual(shapeOf(b.op('LayerNormalization', [x, scale, bias], { axis: 1 }, 2)[1]), ['b', 1, 1]);
  });

  test('Shape with start / end', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 's', 8]);
    const s = b.shapeOf(x);
    assert.equal(s.dtype, 'int64');
    assert.deepEqual(shapeOf(s), [3]);
    assert.deepEqual(shapeOf(b.shapeOf(x, 1)), [2]);
    assert.deepEqual(shapeOf(b.shapeOf(x, -1)), [1]);
    assert.deepEqual(shapeOf(b.shapeOf(x, 0, -1)), [2]);
    assert.deepEqual(shapeOf(b.shapeOf(x, 1, 2)), [1]);
    assert.deepEqual(shapeOf(b.shapeOf(x, 2, 1)), [0]);
    assert.deepEqual(shapeOf(b.shapeOf(x, -10, 10)), [3]);
    const unknown = shapeOf(b.shapeOf(b.input('u', 'float32', null)));
    assert.ok(unknown !== null && unknown.length === 1 && typeof unknown[0] === 'string');
  });

  test('Cast changes dtype only', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 3]);
    const c = b.cast(x, 'int64');
    assert.equal(c.dtype, 'int64');
    assert.deepEqual(shapeOf(c), ['b', 3]);
    assert.deepEqual(c.producer!.attrs.to, { kind: 'int', value: 7 });
    assert.equal(b.cast(b.cast(c, 'bool'), 'float16').dtype, 'float16');
    assert.equal(b.cast(x, 'float32'), x, 'casting to the same dtype is a no-op');
    assert.throws(() => b.op1('Cast', [x], { to: 8 }), /Cast: unsupported target type 8/);
  });

  test('Expand, Tile, Range, ConstantOfShape, Constant', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 1, 4]);
    assert.deepEqual(shapeOf(b.expand(x, b.ints([3, 1, 5, 4]))), [3, 'b', 5, 4]);
    assert.deepEqual(shapeOf(b.op1('Tile', [b.input('t', 'float32', [2, 3]), b.ints([2, 1])])), [4, 3]);
    assert.equal(shapeOf(b.op1('Range', [b.scalar(0, 'int64'), b.scalar(5, 'int64'), b.scalar(1, 'int64')]))!.length, 1);
    const fill = b.op1('ConstantOfShape', [b.ints([2, 3])], { value: tensorAttr(tensor('int64', [1], [7])) });
    assert.equal(fill.dtype, 'int64');
    assert.deepEqual(shapeOf(fill), [2, 3]);
    const k = b.op1('Constant', [], { value: tensorAttr(tensor('float32', [2, 2], [1, 2, 3, 4])) });
    assert.deepEqual(shapeOf(k), [2, 2]);
  });

  test('unknown op types are refused', () => {
    const b = new GraphBuilder('g');
    assert.throws(() => b.op('NoSuchOp', []), /op NoSuchOp has no registered schema/);
  });
});

// ---------------------------------------------------------------------------------------------
describe('builder naming and constants', () => {
  test('scopes prefix node names; duplicates get suffixes; every name is unique', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 4]);
    const w = b.initializer('w', f32([4, 4], rand(16, 1)));
    const inner = b.scope('a', () => b.scope('b', () => b.matMul(x, w)));
    assert.equal(inner.producer!.name, 'a.b/MatMul');
    assert.ok(inner.name.startsWith('a.b/MatMul'), inner.name);
    const again = b.scope('a', () => b.scope('b', () => b.matMul(inner, w)));
    assert.notEqual(again.producer!.name, 'a.b/MatMul');
    assert.match(again.producer!.name, /^a\.b\/MatMul_\d+$/);
    const one = b.scope('a', () => b.add(x, x));
    assert.equal(one.producer!.name, 'a/Add');
    const top1 = b.matMul(x, w);
    const top2 = b.matMul(x, w);
    assert.equal(top1.producer!.name, 'MatMul');
    assert.match(top2.producer!.name, /^MatMul_\d+$/);
    const nodeNames = b.graph.nodes.map((n) => n.name);
    assert.equal(new Set(nodeNames).size, nodeNames.length, `node names repeat: ${nodeNames.join(' ')}`);
    const valueNames = [...b.graph.inputs, ...[...b.graph.initializers.values()].map((i) => i.value), ...b.graph.nodes.flatMap((n) => n.outputs)].map((v) => v.name);
    assert.equal(new Set(valueNames).size, valueNames.length, `value names repeat: ${valueNames.join(' ')}`);
    // an input name in use is suffixed rather than shadowed
    const x2 = b.input('x', 'float32', [1]);
    assert.notEqual(x2.name, 'x');
    assert.throws(() => b.initializer('w', f32([1], [0])), /initializer w already exists/);
  });

  test('multi-output nodes name their outputs after the node', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [2, 6]);
    const parts = b.scope('enc', () => b.split(x, [1, 2, 3], 1));
    assert.equal(parts[0].producer!.name, 'enc/Split');
    assert.deepEqual(parts.map((p) => p.name), ['enc/Split:0', 'enc/Split:1', 'enc/Split:2']);
    const named = b.op('Split', [x, b.ints([3, 3])], { axis: 1 }, ['left', 'right']);
    assert.deepEqual(named.map((p) => p.name), ['left', 'right']);
  });

  test('output() renames an intermediate, and inserts Identity for a graph input', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 4]);
    const r = b.relu(x);
    const nodes = b.graph.nodes.length;
    const out = b.output(r, 'y');
    assert.equal(out, r, 'the intermediate itself becomes the output');
    assert.equal(r.name, 'y');
    assert.equal(b.graph.nodes.length, nodes, 'no node is added');
    const passthrough = b.output(x, 'x_out');
    assert.notEqual(passthrough, x);
    assert.equal(passthrough.name, 'x_out');
    assert.equal(passthrough.producer!.op, 'Identity');
    assert.equal(passthrough.producer!.inputs[0], x);
    assert.equal(x.name, 'x', 'the graph input keeps its name');
    // a value that already is an output is not renamed under the first name
    const again = b.output(r, 'y2');
    assert.equal(again.producer!.op, 'Identity');
    assert.equal(r.name, 'y');
    // keeping the current name adds nothing
    const same = b.output(b.neg(x), undefined);
    assert.equal(b.graph.outputs.at(-1), same);
    assert.deepEqual(b.graph.outputs.map((v) => v.name), ['y', 'x_out', 'y2', same.name]);
  });

  test('constants are deduplicated by value, dtype and dims', () => {
    const b = new GraphBuilder('g');
    const one = b.scalar(1);
    assert.equal(b.scalar(1), one);
    assert.equal(b.scalar(1, 'float32'), one);
    assert.notEqual(b.scalar(1, 'int64'), one);
    assert.equal(b.scalar(1, 'int64'), b.scalar(1, 'int64'));
    assert.notEqual(b.scalar(2), one);
    assert.notEqual(b.constant(f32([1], [1])), one, 'rank matters');
    assert.equal(b.ints([1, 2]), b.ints([1, 2]));
    assert.notEqual(b.ints([1, 2]), b.ints([2, 1]));
    assert.notEqual(b.scalar(-0), b.scalar(0), '-0 and +0 are different constants');
    assert.equal(b.scalar(0.1), b.scalar(0.1));
    assert.deepEqual(b.constValue(one), tensor('float32', [], [1]));
    const big = new Array(20).fill(3);
    assert.notEqual(b.constant(f32([20], big)), b.constant(f32([20], big)), 'large constants are not hashed');
    const inits = [...b.graph.initializers.values()];
    assert.equal(inits.length, 11);
    assert.equal(one.shape!.length, 0);
    assert.ok(b.graph.initializers.has(one.name));
  });
});

// ---------------------------------------------------------------------------------------------
describe('serialisation', () => {
  test('irVersionFor follows the onnx table', () => {
    const table: [number, number][] = [[7, 3], [8, 3], [9, 5], [10, 5], [11, 6], [12, 7], [13, 7], [14, 7], [15, 8], [17, 8], [18, 8], [19, 9], [20, 9], [21, 10], [22, 10]];
    for (const [opset, ir] of table) assert.equal(irVersionFor(opset), ir, `opset ${opset}`);
  });

  test('toModelProto → parseModelProto round trip', () => {
    const b = new GraphBuilder('roundtrip');
    const x = b.input('x', 'float32', ['batch', 'seq', 4]);
    const ids = b.input('ids', 'int64', ['batch', 3]);
    const wData = f32([4, 2], [0.5, -1.25, 3, 1e-7, -0, 7, 8.5, -9]);
    const w = b.initializer('w', wData);
    const table = b.initializer('table', tensor('int64', [3], [1n, -2n, 9007199254740993n]));
    const mask = b.initializer('mask', tensor('bool', [2, 2], [1, 0, 0, 1]));
    const y = b.scope('layer.0', () => b.matMul(x, w));
    b.output(y, 'y');
    b.output(b.gather(table, ids), 'picked');
    b.output(b.not(mask), 'notmask');
    const attrTensor = tensor('int64', [2], [4, -5]);
    const custom = b.op1('Identity', [x], {
      i: 3,
      f: float(0.25),
      s: 'héllo',
      is: [1, -2, 3],
      fs: floats([0.5, -1.5]),
      ss: ['a', 'b'],
      t: tensorAttr(attrTensor),
    });
    b.output(custom, 'custom');

    const bytes = toModelProto(b.graph, { opset: 17, metadata: { k: 'v' }, extraOpsets: { 'com.microsoft': 1 }, docString: 'doc' });
    const m = parseModelProto(bytes);
    assert.equal(num(m.irVersion), 8);
    assert.deepEqual(m.opsetImport.map((o) => [o.domain, num(o.version)]), [['', 17], ['com.microsoft', 1]]);
    assert.equal(m.producerName, 'sentencekit');
    assert.equal(m.docString, 'doc');
    assert.deepEqual(m.metadataProps.map((p) => [p.key, p.value]), [['k', 'v']]);
    const g = m.graph as onnxProto.onnx.GraphProto;
    assert.equal(g.name, 'roundtrip');

    // inputs: symbolic dims as dim_param, static ones as dim_value; initializers are not inputs
    assert.deepEqual(g.input.map((v) => v.name), ['x', 'ids']);
    const dims = (i: number): (string | number)[] =>
      g.input[i].type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : num(d.dimValue)));
    assert.deepEqual(dims(0), ['batch', 'seq', 4]);
    assert.deepEqual(dims(1), ['batch', 3]);
    assert.equal(g.input[0].type!.tensorType!.elemType, 1);
    assert.equal(g.input[1].type!.tensorType!.elemType, 7);
    assert.deepEqual(g.output.map((v) => v.name), ['y', 'picked', 'notmask', 'custom']);
    assert.deepEqual(g.output[0].type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : num(d.dimValue))), ['batch', 'seq', 2]);
    assert.equal(g.output[2].type!.tensorType!.elemType, 9);

    // initializers keep dims, dtype and raw little-endian bytes exactly
    const inits = new Map(g.initializer.map((t) => [t.name, t]));
    const rawOf = (t: TensorData): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    for (const [name, data, code] of [['w', wData, 1], ['table', b.constValue(table)!, 7], ['mask', b.constValue(mask)!, 9]] as const) {
      const t = inits.get(name)!;
      assert.ok(t, name);
      assert.equal(t.dataType, code, name);
      assert.deepEqual(t.dims!.map(num), data.dims, name);
      assert.ok(Buffer.from(t.rawData!).equals(rawOf(data)), `${name} raw bytes`);
    }
    const wBack = new Float32Array(new Uint8Array(inits.get('w')!.rawData!).slice().buffer);
    assert.ok(Object.is(wBack[4], -0));
    assert.equal(new BigInt64Array(new Uint8Array(inits.get('table')!.rawData!).slice().buffer)[2], 9007199254740993n);

    // nodes: names, op types, wiring
    const byName = new Map((g.node as NodeP[]).map((n) => [n.name, n]));
    const mm = byName.get('layer.0/MatMul')!;
    assert.ok(mm, `node names: ${g.node.map((n) => n.name).join(', ')}`);
    assert.equal(mm.opType, 'MatMul');
    assert.deepEqual(mm.input, ['x', 'w']);
    assert.deepEqual(mm.output, ['y']);
    assert.deepEqual(g.node.map((n) => n.name), b.graph.nodes.map((n) => n.name));

    // attributes of every kind
    const node = (g.node as NodeP[]).find((n) => n.output[0] === 'custom')!;
    const attrs = new Map(node.attribute.map((a) => [a.name, a as onnxProto.onnx.AttributeProto]));
    const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 };
    assert.equal(attrs.get('i')!.type, AT.INT);
    assert.equal(num(attrs.get('i')!.i), 3);
    assert.equal(attrs.get('f')!.type, AT.FLOAT);
    assert.equal(attrs.get('f')!.f, 0.25);
    assert.equal(attrs.get('s')!.type, AT.STRING);
    assert.equal(new TextDecoder().decode(attrs.get('s')!.s), 'héllo');
    assert.equal(attrs.get('is')!.type, AT.INTS);
    assert.deepEqual(attrs.get('is')!.ints.map(num), [1, -2, 3]);
    assert.equal(attrs.get('fs')!.type, AT.FLOATS);
    assert.deepEqual(attrs.get('fs')!.floats, [0.5, -1.5]);
    assert.equal(attrs.get('ss')!.type, AT.STRINGS);
    assert.deepEqual(attrs.get('ss')!.strings.map((s) => new TextDecoder().decode(s)), ['a', 'b']);
    const t = attrs.get('t')!;
    assert.equal(t.type, AT.TENSOR);
    assert.equal(t.t!.dataType, 7);
    assert.deepEqual(t.t!.dims!.map(num), [2]);
    assert.ok(Buffer.from(t.t!.rawData!).equals(rawOf(attrTensor)));
    // the Gather node's default axis attribute
    const gather = (g.node as NodeP[]).find((n) => n.opType === 'Gather')!;
    assert.deepEqual(gather.attribute.map((a) => [a.name, num(a.i)]), [['axis', 0]]);
  });

  test('IR version and opset import follow the builder opset', () => {
    for (const [opset, ir] of [[17, 8], [13, 7], [21, 10], [11, 6]] as const) {
      const b = new GraphBuilder('g', { opset });
      const x = b.input('x', 'float32', [2]);
      b.output(b.relu(x), 'y');
      const m = parseModelProto(toModelProto(b.graph, { opset }));
      assert.equal(num(m.irVersion), ir, `opset ${opset}`);
      assert.deepEqual(m.opsetImport.map((o) => [o.domain, num(o.version)]), [['', opset]]);
    }
  });

  test('unknown-rank values serialise without a shape', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', null);
    b.output(b.relu(x), 'y');
    const m = parseModelProto(toModelProto(b.graph, { opset: 17 }));
    assert.equal((m.graph as onnxProto.onnx.GraphProto).input[0].type!.tensorType!.shape, null);
  });
});

// ---------------------------------------------------------------------------------------------
describe('prune', () => {
  function build(): { b: GraphBuilder; x: Value } {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 3]);
    b.input('unused', 'int64', ['b']);
    const live = b.add(b.relu(x), b.initializer('live_bias', f32([3], [1, 2, 3])));
    const dead = b.add(b.matMul(x, b.initializer('dead_w', f32([3, 3], rand(9, 2)))), b.initializer('dead_b', f32([3], [0, 0, 0])));
    b.tanh(dead);
    b.output(live, 'y');
    return { b, x };
  }

  test('removes dead nodes and their initializers, keeps live ones and the inputs', async () => {
    const { b } = build();
    assert.equal(b.graph.nodes.length, 5);
    const report = prune(b.graph);
    assert.deepEqual(report, { removedNodes: 3, removedInitializers: 2, removedInputs: 0 });
    assert.deepEqual(b.graph.nodes.map((n) => n.op), ['Relu', 'Add']);
    assert.deepEqual([...b.graph.initializers.keys()], ['live_bias']);
    assert.deepEqual(b.graph.inputs.map((v) => v.name), ['x', 'unused']);
    // pruning again changes nothing
    assert.deepEqual(prune(b.graph), { removedNodes: 0, removedInitializers: 0, removedInputs: 0 });
    const out = await runGraph(b.graph, { x: f32([1, 3], [-1, 0.5, 2]), unused: tensor('int64', [1], [0]) });
    assertClose(out.y.data as Float32Array, [1, 2.5, 5], 0);
  });

  test('dropUnusedInputs removes inputs nothing reads', async () => {
    const { b } = build();
    const report = prune(b.graph, { dropUnusedInputs: true });
    assert.deepEqual(report, { removedNodes: 3, removedInitializers: 2, removedInputs: 1 });
    assert.deepEqual(b.graph.inputs.map((v) => v.name), ['x']);
    const out = await runGraph(b.graph, { x: f32([1, 3], [-1, 0.5, 2]) });
    assertClose(out.y.data as Float32Array, [1, 2.5, 5], 0);
  });

  test('initializers and inputs that are outputs themselves stay', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [2]);
    b.output(x);
    b.output(b.initializer('c', f32([2], [1, 2])));
    b.relu(x);
    assert.deepEqual(prune(b.graph, { dropUnusedInputs: true }), { removedNodes: 1, removedInitializers: 0, removedInputs: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
describe('builder helpers in onnxruntime', () => {
  test('linear: x @ W + b', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['n', 3]);
    const W = rand(12, 3);
    const bias = [0.5, -1, 2, 0];
    b.output(b.linear(x, b.initializer('W', f32([3, 4], W)), b.initializer('b', f32([4], bias))), 'y');
    b.output(b.linear(x, b.initializer('W2', f32([3, 4], W)), null), 'nobias');
    const xs = rand(6, 4);
    const out = await runGraph(b.graph, { x: f32([2, 3], xs) });
    assert.deepEqual(out.y.dims, [2, 4]);
    const expected: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += Math.fround(xs[i * 3 + k]) * Math.fround(W[k * 4 + j]);
        plain.push(s);
        expected.push(s + bias[j]);
      }
    }
    assertClose(out.y.data as Float32Array, expected, 1e-6, 1e-6, 'linear');
    assertClose(out.nobias.data as Float32Array, plain, 1e-6, 1e-6, 'linear without bias');
  });

  test('gelu matches x·½·(1 + erf(x/√2)) computed in float64', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['n']);
    b.output(b.gelu(x), 'y');
    const xs: number[] = [];
    for (let v = -6; v <= 6; v += 0.05) xs.push(v);
    xs.push(0, -0.001, 0.001, 10, -10);
    const xf = Float32Array.from(xs);
    const out = await runGraph(b.graph, { x: f32([xf.length], xf) });
    const expected = Array.from(xf, (v) => v * 0.5 * (1 + erf64(v / Math.SQRT2)));
    assertClose(out.y.data as Float32Array, expected, 1e-6, 1e-6, 'gelu');
  });

  test('layerNorm normalises over the last axis', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['n', 5]);
    const gamma = [1, 2, 0.5, -1, 1.5];
    const beta = [0, 0.1, -0.2, 0.3, 1];
    const eps = 1e-5;
    b.output(b.layerNorm(x, b.initializer('gamma', f32([5], gamma)), b.initializer('beta', f32([5], beta)), eps), 'y');
    const xs = Array.from(f32([3, 5], rand(15, 5, 3)).data as Float32Array);
    const out = await runGraph(b.graph, { x: f32([3, 5], xs) });
    const expected: number[] = [];
    for (let r = 0; r < 3; r++) {
      const row = xs.slice(r * 5, r * 5 + 5);
      const mean = row.reduce((a, c) => a + c, 0) / 5;
      const v = row.reduce((a, c) => a + (c - mean) ** 2, 0) / 5;
      row.forEach((c, j) => expected.push(((c - mean) / Math.sqrt(v + eps)) * gamma[j] + beta[j]));
    }
    assertClose(out.y.data as Float32Array, expected, 1e-5, 1e-5, 'layerNorm');
  });

  test('softmax over the last axis', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['n', 4]);
    b.output(b.softmax(x), 'y');
    b.output(b.softmax(x, 0), 'y0');
    const xs = [1, 2, 3, 4, -100, 0, 100, 50];
    const out = await runGraph(b.graph, { x: f32([2, 4], xs) });
    const sm = (v: number[]): number[] => {
      const m = Math.max(...v);
      const e = v.map((c) => Math.exp(c - m));
      const s = e.reduce((a, c) => a + c, 0);
      return e.map((c) => c / s);
    };
    assertClose(out.y.data as Float32Array, [...sm(xs.slice(0, 4)), ...sm(xs.slice(4))], 1e-7, 1e-6, 'softmax');
    const cols = [0, 1, 2, 3].map((j) => sm([xs[j], xs[4 + j]]));
    assertClose(out.y0.data as Float32Array, [...cols.map((c) => c[0]), ...cols.map((c) => c[1])], 1e-7, 1e-6, 'softmax axis 0');
  });

  test('reduceL2 / reduceSum / reduceMean / reduceMax', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['n', 3]);
    b.output(b.reduceL2(x, [1], false), 'l2');
    b.output(b.reduceSum(x, [0]), 'sum0');
    b.output(b.reduceMean(x, [-1]), 'mean');
    b.output(b.reduceMax(x, [1], false), 'max');
    const xs = [3, 4, 0, 1, -2, 2];
    const out = await runGraph(b.graph, { x: f32([2, 3], xs) });
    assert.deepEqual(out.l2.dims, [2]);
    assertClose(out.l2.data as Float32Array, [5, 3], 1e-6, 1e-6, 'reduceL2');
    assert.deepEqual(out.sum0.dims, [1, 3]);
    assertClose(out.sum0.data as Float32Array, [4, 2, 2], 0, 0, 'reduceSum');
    assert.deepEqual(out.mean.dims, [2, 1]);
    assertClose(out.mean.data as Float32Array, [7 / 3, 1 / 3], 1e-6, 1e-6, 'reduceMean');
    assertClose(out.max.data as Float32Array, [4, 2], 0, 0, 'reduceMax');
  });

  test('where / equal / cast', async () => {
    const b = new GraphBuilder('g');
    const ids = b.input('ids', 'int64', ['n']);
    const x = b.input('x', 'float32', ['n']);
    const pad = b.equal(ids, b.scalar(0, 'int64'));
    b.output(pad, 'pad');
    b.output(b.where(pad, b.scalar(-1e9), x), 'masked');
    b.output(b.cast(b.not(pad), 'float32'), 'keep');
    const out = await runGraph(b.graph, { ids: tensor('int64', [4], [5n, 0n, 7n, 0n]), x: f32([4], [1, 2, 3, 4]) });
    assert.equal(out.pad.dtype, 'bool');
    assert.deepEqual(Array.from(out.pad.data as Uint8Array), [0, 1, 0, 1]);
    assert.deepEqual(Array.from(out.masked.data as Float32Array), [1, -1e9, 3, -1e9].map(Math.fround));
    assert.deepEqual(Array.from(out.keep.data as Float32Array), [1, 0, 1, 0]);
  });

  test('slice with negative steps flips, and inferred shapes match what runs', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [2, 5]);
    const specs: [string, number[], number[], number[], number[] | undefined][] = [
      ['flip', [-1], [-BIG], [1], [-1]],
      ['flip_rows', [-1, -1], [-BIG, -BIG], [0, 1], [-1, -1]],
      ['every_other_back', [4], [-BIG], [1], [-2]],
      ['middle_back', [3], [0], [1], [-1]],
      ['clamped_back', [-20], [-BIG], [1], [-1]],
      ['forward', [1], [BIG], [1], [2]],
    ];
    for (const [name, s, e, a, st] of specs) b.output(b.slice(x, s, e, a, st), name);
    const xs = [0, 1, 2, 3, 4, 10, 11, 12, 13, 14];
    const out = await runGraph(b.graph, { x: f32([2, 5], xs) });
    const expect: Record<string, number[]> = {
      flip: [4, 3, 2, 1, 0, 14, 13, 12, 11, 10],
      flip_rows: [14, 13, 12, 11, 10, 4, 3, 2, 1, 0],
      every_other_back: [4, 2, 0, 14, 12, 10],
      middle_back: [3, 2, 1, 13, 12, 11],
      clamped_back: [0, 10],
      forward: [1, 3, 11, 13],
    };
    for (const v of b.graph.outputs) {
      assert.deepEqual(Array.from(out[v.name].data as Float32Array), expect[v.name], v.name);
      assert.deepEqual(out[v.name].dims, v.shape, `${v.name}: inferred shape`);
    }
  });

  test('split and gather', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [2, 6]);
    const [p, q, r] = b.split(x, [1, 2, 3], 1);
    b.output(p, 'p');
    b.output(q, 'q');
    b.output(r, 'r');
    const table = b.initializer('table', f32([5, 3], Array.from({ length: 15 }, (_, i) => i)));
    const ids = b.input('ids', 'int64', ['b', 's']);
    b.output(b.gather(table, ids), 'emb');
    b.output(b.gather(x, b.scalar(1, 'int64'), 0), 'row1');
    b.output(b.gather(x, b.ints([5, 0]), 1), 'cols');
    const xs = Array.from({ length: 12 }, (_, i) => i);
    const out = await runGraph(b.graph, { x: f32([2, 6], xs), ids: tensor('int64', [2, 2], [4, 0, 1, 1]) });
    assert.deepEqual(Array.from(out.p.data as Float32Array), [0, 6]);
    assert.deepEqual(Array.from(out.q.data as Float32Array), [1, 2, 7, 8]);
    assert.deepEqual(Array.from(out.r.data as Float32Array), [3, 4, 5, 9, 10, 11]);
    assert.deepEqual(out.r.dims, [2, 3]);
    assert.deepEqual(out.emb.dims, [2, 2, 3]);
    assert.deepEqual(Array.from(out.emb.data as Float32Array), [12, 13, 14, 0, 1, 2, 3, 4, 5, 3, 4, 5]);
    assert.deepEqual(out.row1.dims, [6]);
    assert.deepEqual(Array.from(out.row1.data as Float32Array), [6, 7, 8, 9, 10, 11]);
    assert.deepEqual(Array.from(out.cols.data as Float32Array), [5, 0, 11, 6]);
  });

  test('opset 18: ReduceMean with axes as an input runs', async () => {
    const b = new GraphBuilder('g', { opset: 18 });
    const x = b.input('x', 'float32', ['n', 4]);
    const m = b.reduceMean(x, [1], false);
    assert.equal(m.producer!.inputs.length, 2);
    b.output(m, 'mean');
    b.output(b.reduceL2(x, [0]), 'l2');
    const parts = b.split(x, [1, 3], 1);
    b.output(parts[1], 'tail');
    const out = await runGraph(b.graph, { x: f32([2, 4], [1, 2, 3, 4, 0, 0, 3, 4]) }, 18);
    assertClose(out.mean.data as Float32Array, [2.5, 1.75], 1e-6, 0, 'mean');
    assertClose(out.l2.data as Float32Array, [1, 2, Math.sqrt(18), Math.sqrt(32)], 1e-6, 1e-6, 'l2');
    assert.deepEqual(out.tail.dims, [2, 3]);
  });

  test('opset 11: attribute forms run', async () => {
    const b = new GraphBuilder('g', { opset: 11 });
    const x = b.input('x', 'float32', ['n', 4]);
    const u = b.unsqueeze(x, [0]);
    const s = b.squeeze(u, [0]);
    const [, tail] = b.split(s, [1, 3], 1);
    b.output(b.reduceSum(tail, [1], false), 'sum');
    b.output(b.reduceMean(x, [1], true), 'mean');
    const out = await runGraph(b.graph, { x: f32([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]) }, 11);
    assert.deepEqual(Array.from(out.sum.data as Float32Array), [9, 21]);
    assert.deepEqual(out.mean.dims, [2, 1]);
    assert.deepEqual(Array.from(out.mean.data as Float32Array), [2.5, 6.5]);
  });

  test('reshape / transpose / concat / shape run with the inferred shapes', async () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', ['b', 'n', 6]);
    const r = b.reshape(x, [0, 0, 2, 3]);
    const t = b.transpose(r, [0, 2, 1, 3]);
    b.output(t, 't');
    b.output(b.concat([x, x], -1), 'cat');
    b.output(b.shapeOf(x, 1), 'shp');
    b.output(b.op1('ArgMax', [x], { axis: -1, keepdims: 0 }), 'arg');
    const xs = Array.from({ length: 12 }, (_, i) => (i * 7) % 12);
    const out = await runGraph(b.graph, { x: f32([1, 2, 6], xs) });
    assert.deepEqual(out.t.dims, [1, 2, 2, 3]);
    assert.deepEqual(Array.from(out.t.data as Float32Array), [xs[0], xs[1], xs[2], xs[6], xs[7], xs[8], xs[3], xs[4], xs[5], xs[9], xs[10], xs[11]]);
    assert.deepEqual(out.cat.dims, [1, 2, 12]);
    assert.deepEqual(Array.from(out.shp.data as BigInt64Array), [2n, 6n]);
    assert.equal(out.arg.dtype, 'int64');
    assert.deepEqual(Array.from(out.arg.data as BigInt64Array), [BigInt(xs.slice(0, 6).indexOf(Math.max(...xs.slice(0, 6)))), BigInt(xs.slice(6).indexOf(Math.max(...xs.slice(6))))]);
  });
});
