// What a backward pass holds. A stack of L blocks h ← GELU(h·W)·V is differentiated; at the start
// of the backward pass each block holds GELU's input and, unless it is recomputed, its output.
// Measured by onnxruntime itself (its profiler's bytes in use at each node): a value marked
// recomputeInBackward is freed after the forward pass and rebuilt just before its consumer, which
// needs common-subexpression elimination off (it would merge the copy back). And the order
// autodiff gives the appended nodes: those that read no gradient first (so that onnxruntime runs
// them just before their consumer; see autodiff.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../src/graph/builder.js';
import { gradients } from '../src/graph/autodiff.js';
import '../src/graph/grad/index.js';
import { Session } from '../src/runtime/index.js';
import { breakdown, type TraceEvent } from '../src/runtime/profile.js';

const L = 16;
const N = 64;
const H = 128;
const I = 1024;
const ACT = N * I * 4; // one [N, I] float32 activation: 256 KiB

function stack(recompute: boolean): GraphBuilder {
  const g = new GraphBuilder('blocks', { opset: 20 });
  let h = g.input('x', 'float32', [N, H]);
  const wrt = [];
  for (let l = 0; l < L; l++) {
    const w = g.input(`w${l}`, 'float32', [H, I]);
    const v = g.input(`v${l}`, 'float32', [I, H]);
    wrt.push(w, v);
    const a = g.op1('Gelu', [g.matMul(h, w)]);
    if (recompute) g.recomputeInBackward(a);
    h = g.matMul(a, v);
  }
  const loss = g.reduceSum(g.mul(h, h), [0, 1], false);
  g.output(loss, 'loss');
  const grads = gradients(g, loss, wrt, g.input('seed', 'float32', []));
  // ‖∂loss/∂p‖² alone leaves the graph: full gradients as outputs would be held to the end
  wrt.forEach((p, i) => g.output(g.op1('ReduceSumSquare', [grads.get(p)!], { keepdims: 0 }), `g${i}`));
  return g;
}

/** onnxruntime's largest bytes in use over the nodes of the second of two runs, and the outputs. */
async function peakInUse(g: GraphBuilder, disabledOptimizers: string[]): Promise<{ peak: number; grads: Float32Array[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'sk-bwmem-'));
  try {
    const s = await Session.create(g.graph, { opset: 20, cache: false, threads: 1, profile: true, profilePrefix: join(dir, 'p'), memPattern: false, memArena: true, disabledOptimizers });
    const feeds: Record<string, { dtype: 'float32'; dims: number[]; data: Float32Array }> = {};
    let k = 1;
    const fill = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => (Math.sin(k++ * 12.9898) * scale));
    feeds.x = { dtype: 'float32', dims: [N, H], data: fill(N * H, 1) };
    feeds.seed = { dtype: 'float32', dims: [], data: Float32Array.of(1) };
    for (let l = 0; l < L; l++) {
      feeds[`w${l}`] = { dtype: 'float32', dims: [H, I], data: fill(H * I, 0.1) };
      feeds[`v${l}`] = { dtype: 'float32', dims: [I, H], data: fill(I * H, 0.05) };
    }
    let out = await s.run(feeds);
    out = await s.run(feeds);
    s.endProfiling();
    await s.release();
    const file = (await readdir(dir)).find((f) => f.endsWith('.json'))!;
    const peak = breakdown(JSON.parse(await readFile(join(dir, file), 'utf8')) as TraceEvent[], 1).peakBytesInUse;
    assert.ok(peak > 0, 'the profile reports no bytes in use (arena statistics missing)');
    return { peak, grads: Array.from({ length: 2 * L }, (_, i) => out[`g${i}`].data as Float32Array) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('backward memory: a recomputed value is not held through the backward pass', async () => {
  const kept = await peakInUse(stack(false), ['CommonSubexpressionElimination']);
  const rebuilt = await peakInUse(stack(true), ['CommonSubexpressionElimination']);
  const merged = await peakInUse(stack(true), []);
  // held at the start of the backward pass: per block GELU's input and output, then a few
  // activations of working memory
  assert.ok(kept.peak > 2 * L * ACT && kept.peak < (2 * L + 12) * ACT, `peak ${kept.peak / ACT} activations with GELU kept`);
  assert.ok(kept.peak - rebuilt.peak > (L - 4) * ACT, `recomputing GELU saved ${(kept.peak - rebuilt.peak) / ACT} of ${L} activations`);
  // with common-subexpression elimination on, the copy is merged back into the forward node
  assert.ok(merged.peak - rebuilt.peak > (L - 4) * ACT, `with CSE the peak is ${merged.peak / ACT} activations against ${rebuilt.peak / ACT}`);
  // the same gradients either way
  for (let i = 0; i < 2 * L; i++) assert.deepEqual(rebuilt.grads[i], kept.grads[i], `gradient ${i}`);
});

test('autodiff order: the appended nodes that read no gradient come before all that do', () => {
  const g = stack(true);
  const nodes = g.graph.nodes;
  const first = nodes.findIndex((n) => n.name.startsWith('grad'));
  assert.ok(first > 0);
  const carries = new Set(g.graph.inputs.filter((v) => v.name === 'seed'));
  let seenChain = false;
  let terms = 0;
  for (const n of nodes.slice(first)) {
    const reads = n.inputs.some((v) => v && carries.has(v));
    if (reads) {
      for (const o of n.outputs) carries.add(o);
      seenChain = true;
    } else {
      if (n.outputs.some((o) => g.graph.outputs.includes(o))) continue;
      assert.ok(!seenChain, `${n.name} (${n.op}) reads no gradient but comes after gradient nodes`);
      terms++;
    }
  }
  // GELU's derivative terms and the recomputed GELU of every block
  assert.ok(terms >= 2 * L, `only ${terms} forward-only gradient terms`);
});
