// Gradient rules of the neural-network ops:
//   Softmax: y ⊙ (G − Σ G⊙y)   LogSoftmax: G − softmax(x) · Σ G
//   LayerNormalization over the last axis, x̂ = (x − μ)·r, r = 1/√(σ² + ε):
//     dx = r · (G·γ − mean(G·γ) − x̂ · mean(G·γ ⊙ x̂)),  dγ = Σ G ⊙ x̂,  dβ = Σ G
//   Dropout: G ⊙ mask / (1 − p)
//   Gelu (exact): G ⊙ (Φ(x) + x·φ(x)),  Φ(x) = ½(1 + erf(x/√2)),  φ(x) = e^(−x²/2)/√(2π),
//     computed as (½·G) ⊙ (erf(a) + 1 + √(2/π)·x / e^(a²)) with a = x/√2: nine elementwise passes
//     instead of eleven, the ½ folded by onnxruntime into the MatMul that makes G (x / e^(a²) is 0
//     where e^(a²) overflows, as x·φ(x) underflows there)

import { registerGrad } from '../autodiff.js';
import { Value } from '../ir.js';
import { intAttr, normAxis } from '../ops/registry.js';

registerGrad('Softmax', ({ g, node, outGrads }) => {
  const y = node.outputs[0];
  const axis = intAttr(node.attrs, 'axis', -1);
  const G = outGrads[0]!;
  return [g.mul(y, g.sub(G, g.reduceSum(g.mul(G, y), [axis], true)))];
});

registerGrad('LogSoftmax', ({ g, node, outGrads }) => {
  const y = node.outputs[0];
  const axis = intAttr(node.attrs, 'axis', -1);
  const G = outGrads[0]!;
  return [g.sub(G, g.mul(g.exp(y), g.reduceSum(G, [axis], true)))];
});

registerGrad('LayerNormalization', ({ g, node, outGrads, needs }) => {
  const [x, scale, bias] = node.inputs as [Value, Value, Value | null];
  const rank = x.rank!;
  const axis = normAxis(intAttr(node.attrs, 'axis', -1), rank);
  if (axis !== rank - 1) throw new Error('autodiff: LayerNormalization gradient supports the last axis only');
  // the forward node's own mean and inverse standard deviation (added as outputs if absent)
  while (node.outputs.length < 3) {
    const stat = new Value(`${node.name}:${node.outputs.length === 1 ? 'mean' : 'inv_std'}`, 'float32', x.shape ? x.shape.map((d, i) => (i < axis ? d : 1)) : null, node);
    node.outputs.push(stat);
  }
  const mean = g.cast(node.outputs[1], x.dtype);
  const invStd = g.cast(node.outputs[2], x.dtype);
  const G = outGrads[0]!;
  const xhat = g.mul(g.sub(x, mean), invStd);
  const lead = Array.from({ length: rank - 1 }, (_, i) => i);
  const dScale = needs[1] ? g.reduceSum(g.mul(G, xhat), lead, false) : null;
  const dBias = bias && needs[2] ? g.reduceSum(G, lead, false) : null;
  let dx: Value | null = null;
  if (needs[0]) {
    const gs = g.mul(G, scale);
    const m1 = g.reduceMean(gs, [-1], true);
    const m2 = g.reduceMean(g.mul(gs, xhat), [-1], true);
    dx = g.mul(invStd, g.sub(g.sub(gs, m1), g.mul(xhat, m2)));
  }
  return [dx, dScale, dBias];
});

registerGrad('Dropout', ({ g, node, outGrads }) => {
  const x = node.inputs[0]!;
  if (node.outputs.length < 2) {
    const mask = new Value(`${node.name}:mask`, 'bool', x.shape, node);
    node.outputs.push(mask);
  }
  const ratioV = node.inputs[1];
  const ratio = ratioV ? g.constValue(ratioV) : null;
  const p = ratio ? Number((ratio.data as Float32Array)[0]) : 0.5;
  const G = outGrads[0]!;
  const scaled = g.mul(G, g.scalar(1 / (1 - p), G.dtype));
  return [g.where(node.outputs[1], scaled, g.scalar(0, G.dtype)), null, null];
});

registerGrad('Gelu', ({ g, node, outGrads }) => {
  const x = node.inputs[0]!;
  const approx = node.attrs.approximate;
  if (approx && approx.kind === 'string' && approx.value !== 'none') throw new Error('autodiff: Gelu with approximate="tanh" is not supported');
  const a = g.mul(x, g.scalar(Math.SQRT1_2, x.dtype));
  // 2·(Φ(x) + x·φ(x)) = 1 + erf(a) + √(2/π)·x·e^(−a²)
  const xPdf = g.mul(g.div(x, g.exp(g.mul(a, a))), g.scalar(Math.sqrt(2 / Math.PI), x.dtype));
  const twice = g.add(g.add(g.erf(a), g.scalar(1, x.dtype)), xPdf);
  // ½ on G first: onnxruntime folds a scalar factor into the MatMul that makes G
  return [g.mul(g.mul(outGrads[0]!, g.scalar(0.5, x.dtype)), twice)];
});
