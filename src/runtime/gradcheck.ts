// Finite-difference check of the gradient rules: builds f(inputs), reduces it to a scalar with
// fixed random weights (L = Σ w ⊙ f), asks autodiff for dL/d input, and compares every element
// with the central difference (L(x + ε) − L(x − ε)) / 2ε computed by onnxruntime. It runs
// graphs, so it lives in the runtime layer (the graph layer builds them only).

import { GraphBuilder } from '../graph/builder.js';
import { gradients } from '../graph/autodiff.js';
import '../graph/grad/index.js';
import type { DType } from '../graph/dtype.js';
import type { TensorData, Value } from '../graph/ir.js';
import { toModelProto } from '../graph/serialise.js';
import { Session } from './session.js';

export interface CheckInput {
  name: string;
  dtype: 'float32' | 'float64';
  dims: number[];
  data: Float32Array | Float64Array;
  /** Check the gradient of this input (default true). */
  differentiable?: boolean;
}

export interface GradCheckResult {
  maxAbsError: number;
  maxRelError: number;
  worst: string;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/** Runs the check; `extraFeeds` are non-float inputs (indices, masks) declared by `build`. */
export async function gradCheck(
  build: (g: GraphBuilder, xs: Value[]) => Value,
  inputs: CheckInput[],
  opts: { eps?: number; opset?: number; extraInputs?: { name: string; data: TensorData }[] } = {},
): Promise<GradCheckResult> {
  const dtype: DType = inputs[0].dtype;
  const eps = opts.eps ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const opset = opts.opset ?? 17;
  const mk = (outDims: number[]): { bytes: Uint8Array; gradNames: string[] } => {
    const g = new GraphBuilder('gradcheck', { opset });
    const xs = inputs.map((i) => g.input(i.name, i.dtype, i.dims));
    for (const e of opts.extraInputs ?? []) g.input(e.name, e.data.dtype, e.data.dims);
    const y = build(g, xs);
    const n = outDims.reduce((a, b) => a * b, 1);
    const r = lcg(1234);
    const wData = dtype === 'float64' ? Float64Array.from({ length: n }, r) : Float32Array.from({ length: n }, r);
    const w = g.initializer('w', { dtype, dims: outDims, data: wData });
    const loss = g.reduceSum(g.mul(y, w), outDims.map((_, i) => i), false);
    g.output(loss, 'loss');
    const gradNames: string[] = [];
    {
      const diff = inputs.map((inp, i) => (inp.differentiable === false ? null : xs[i])).filter((v): v is Value => v !== null);
      const grads = gradients(g, loss, diff);
      for (const v of diff) {
        const gv = grads.get(v);
        if (!gv) throw new Error(`no gradient reaches ${v.name}`);
        g.output(gv, `grad_${v.name}`);
        gradNames.push(`grad_${v.name}`);
      }
    }
    return { bytes: toModelProto(g.graph, { opset }), gradNames };
  };
  const feeds = (): Record<string, TensorData> => {
    const f: Record<string, TensorData> = {};
    for (const i of inputs) f[i.name] = { dtype: i.dtype, dims: i.dims, data: i.data };
    for (const e of opts.extraInputs ?? []) f[e.name] = e.data;
    return f;
  };
  // forward once to learn the output's dims
  const g0 = new GraphBuilder('probe', { opset });
  const xs0 = inputs.map((i) => g0.input(i.name, i.dtype, i.dims));
  for (const e of opts.extraInputs ?? []) g0.input(e.name, e.data.dtype, e.data.dims);
  g0.output(build(g0, xs0), 'y');
  const probe = await Session.create(g0.graph, { threads: 1, cache: false });
  const outDims = (await probe.run(feeds())).y.dims;
  await probe.release();

  const { bytes, gradNames } = mk(outDims);
  const s = await Session.create(bytes, { threads: 1, cache: false, optimization: 'disabled' });
  const res = await s.run(feeds());
  let maxAbs = 0;
  let maxRel = 0;
  let worst = '';
  let gi = 0;
  for (const inp of inputs) {
    if (inp.differentiable === false) continue;
    const analytic = res[gradNames[gi++]].data as Float64Array | Float32Array;
    for (let k = 0; k < inp.data.length; k++) {
      const orig = inp.data[k];
      inp.data[k] = orig + eps;
      const lp = Number((await s.run(feeds(), ['loss'])).loss.data[0]);
      inp.data[k] = orig - eps;
      const lm = Number((await s.run(feeds(), ['loss'])).loss.data[0]);
      inp.data[k] = orig;
      const numeric = (lp - lm) / (2 * eps);
      const a = Number(analytic[k]);
      const abs = Math.abs(a - numeric);
      const rel = abs / Math.max(1e-3, Math.abs(a), Math.abs(numeric));
      if (rel > maxRel) {
        maxRel = rel;
        worst = `${inp.name}[${k}]: analytic ${a}, numeric ${numeric}`;
      }
      maxAbs = Math.max(maxAbs, abs);
    }
  }
  await s.release();
  return { maxAbsError: maxAbs, maxRelError: maxRel, worst };
}
