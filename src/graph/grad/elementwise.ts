// Gradient rules of elementwise ops. With y = f(x) and upstream gradient G:
//   Add: G, G   Sub: G, −G   Mul: G·b, G·a   Div: G/b, −G·y/b   Neg: −G
//   Pow (constant c): G·c·x^(c−1)   Sqrt: G/(2y)   Exp: G·y   Log: G/x   Reciprocal: −G·y²
//   Erf: G·2/√π·e^(−x²)   Tanh: G·(1−y²)   Sigmoid: G·y·(1−y)   Relu: G·[x>0]   Abs: G·sign(x)
//   Max/Min: G to the selected operand (ties to the first)   Where: G split by the condition
//   Cast: G cast back (float to float only)   Clip: G·[min ≤ x ≤ max]
// Broadcast operands get their gradient summed back to their own shape.

import { registerGrad } from '../autodiff.js';
import { isFloat } from '../dtype.js';
import { unbroadcast, zerosLike } from './util.js';

registerGrad('Identity', ({ outGrads }) => [outGrads[0]]);

registerGrad('Add', ({ g, node, outGrads, needs }) => {
  const G = outGrads[0]!;
  return node.inputs.map((v, i) => (needs[i] ? unbroadcast(g, G, v!) : null));
});

registerGrad('Sub', ({ g, node, outGrads, needs }) => {
  const G = outGrads[0]!;
  const [a, b] = node.inputs;
  return [needs[0] ? unbroadcast(g, G, a!) : null, needs[1] ? unbroadcast(g, g.neg(G), b!) : null];
});

registerGrad('Mul', ({ g, node, outGrads, needs }) => {
  const G = outGrads[0]!;
  const [a, b] = node.inputs;
  return [needs[0] ? unbroadcast(g, g.mul(G, b!), a!) : null, needs[1] ? unbroadcast(g, g.mul(G, a!), b!) : null];
});

registerGrad('Div', ({ g, node, outGrads, needs }) => {
  const G = outGrads[0]!;
  const [a, b] = node.inputs;
  const y = node.outputs[0];
  return [
    needs[0] ? unbroadcast(g, g.div(G, b!), a!) : null,
    needs[1] ? unbroadcast(g, g.neg(g.div(g.mul(G, y), b!)), b!) : null,
  ];
});

registerGrad('Neg', ({ g, outGrads }) => [g.neg(outGrads[0]!)]);

registerGrad('Pow', ({ g, node, outGrads, needs }) => {
  const G = outGrads[0]!;
  const [x, e] = node.inputs;
  if (needs[1]) throw new Error('autodiff: Pow with a trainable exponent is not supported');
  const c = g.constValue(e!);
  if (!c || c.data.length !== 1) throw new Error('autodiff: Pow needs a constant scalar exponent');
  const k = Number((c.data as Float32Array)[0]);
  const d = k === 2 ? g.mul(x!, g.scalar(2, x!.dtype)) : g.mul(g.pow(x!, g.scalar(k - 1, x!.dtype)), g.scalar(k, x!.dtype));
  return [unbroadcast(g, g.mul(G, d), x!), null];
});

registerGrad('Sqrt', ({ g, node, outGrads }) => [g.div(g.mul(outGrads[0]!, g.scalar(0.5, node.outputs[0].dtype)), node.outputs[0])]);
registerGrad('Exp', ({ g, node, outGrads }) => [g.mul(outGrads[0]!, node.outputs[0])]);
registerGrad('Log', ({ g, node, outGrads }) => [g.div(outGrads[0]!, node.inputs[0]!)]);
registerGrad('Reciprocal', ({ g, node, outGrads }) => {
  const y = node.outputs[0];
  return [g.neg(g.mul(outGrads[0]!, g.mul(y, y)))];
});

registerGrad('Erf', ({ g, node, outGrads }) => {
  const x = node.inputs[0]!;
  const d = g.mul(g.exp(g.neg(g.mul(x, x))), g.scalar(2 / Math.sqrt(Math.PI), x.dtype));
  return [g.mul(outGrads[0]!, d)];
});

registerGrad('Tanh', ({ g, node, outGrads }) => {
  const y = node.outputs[0];
  return [g.mul(outGrads[0]!, g.sub(g.scalar(1, y.dtype), g.mul(y, y)))];
});

registerGrad('Sigmoid', ({ g, node, outGrads }) => {
  const y = node.outputs[0];
  return [g.mul(outGrads[0]!, g.mul(y, g.sub(g.scalar(1, y.dtype), y)))];
});

registerGrad('Relu', ({ g, node, outGrads }) => {
  const x = node.inputs[0]!;
  return [g.where(g.op1('Greater', [x, g.scalar(0, x.dtype)]), outGrads[0]!, g.scalar(0, x.dtype))];
});

registerGrad('Abs', ({ g, node, outGrads }) => [g.mul(outGrads[0]!, g.op1('Sign', [node.inputs[0]!]))]);

for (const op of ['Max', 'Min']) {
  registerGrad(op, ({ g, node, outGrads, needs }) => {
    if (node.inputs.length !== 2) throw new Error(`autodiff: ${op} with ${node.inputs.length} inputs is not supported`);
    const G = outGrads[0]!;
    const [a, b] = node.inputs;
    const pickA = op === 'Max' ? g.greaterOrEqual(a!, b!) : g.op1('LessOrEqual', [a!, b!]);
    const zero = g.scalar(0, G.dtype);
    return [
      needs[0] ? unbroadcast(g, g.where(pickA, G, zero), a!) : null,
      needs[1] ? unbroadcast(g, g.where(pickA, zero, G), b!) : null,
    ];
  });
}

registerGrad('Where', ({ g, node, outGrads, needs }) => {
  const G = outGrads[0]!;
  const [c, a, b] = node.inputs;
  const zero = g.scalar(0, G.dtype);
  return [
    null,
    needs[1] ? unbroadcast(g, g.where(c!, G, zero), a!) : null,
    needs[2] ? unbroadcast(g, g.where(c!, zero, G), b!) : null,
  ];
});

registerGrad('Cast', ({ g, node, outGrads }) => {
  const x = node.inputs[0]!;
  if (!isFloat(x.dtype) || !isFloat(node.outputs[0].dtype)) return [null];
  return [g.cast(outGrads[0]!, x.dtype)];
});

registerGrad('Clip', ({ g, node, outGrads }) => {
  const [x, lo, hi] = node.inputs;
  let keep = outGrads[0]!;
  const zero = g.scalar(0, keep.dtype);
  if (lo) keep = g.where(g.greaterOrEqual(x!, lo), keep, zero);
  if (hi) keep = g.where(g.op1('LessOrEqual', [x!, hi]), keep, zero);
  return [keep, null, null];
});

export { zerosLike };
