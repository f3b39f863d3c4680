// Elementwise ops: unary maths, broadcasting binary arithmetic and comparisons, Where, Cast, Clip.

import type { DType } from '../dtype.js';
import { broadcastShapes, input, intAttr, registerOp, sameAs } from './registry.js';

const UNARY = ['Identity', 'Neg', 'Abs', 'Sqrt', 'Exp', 'Log', 'Erf', 'Tanh', 'Relu', 'Sigmoid',
  'Reciprocal', 'Sign', 'Floor', 'Ceil', 'Sin', 'Cos', 'Not', 'Softplus', 'IsNaN', 'IsInf'];
for (const op of UNARY) {
  if (op === 'IsNaN' || op === 'IsInf') {
    registerOp({ op, infer: (ctx) => [{ dtype: 'bool', shape: input(ctx, 0, op).shape }] });
  } else {
    registerOp({ op, infer: sameAs(0) });
  }
}

for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mod']) {
  registerOp({
    op,
    infer(ctx) {
      let shape = input(ctx, 0, op).shape;
      for (let i = 1; i < ctx.inputs.length; i++) shape = broadcastShapes(shape, input(ctx, i, op).shape);
      return [{ dtype: input(ctx, 0, op).dtype, shape }];
    },
  });
}

for (const op of ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']) {
  registerOp({
    op,
    infer: (ctx) => [{ dtype: 'bool', shape: broadcastShapes(input(ctx, 0, op).shape, input(ctx, 1, op).shape) }],
  });
}

registerOp({
  op: 'Where',
  infer(ctx) {
    const s = broadcastShapes(broadcastShapes(input(ctx, 0, 'Where').shape, input(ctx, 1, 'Where').shape), input(ctx, 2, 'Where').shape);
    return [{ dtype: input(ctx, 1, 'Where').dtype, shape: s }];
  },
});

const CAST_TO: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 16: 'bfloat16' };
registerOp({
  op: 'Cast',
  infer(ctx) {
    const to = CAST_TO[intAttr(ctx.attrs, 'to', 1)];
    if (!to) throw new Error(`Cast: unsupported target type ${intAttr(ctx.attrs, 'to', 1)}`);
    return [{ dtype: to, shape: input(ctx, 0, 'Cast').shape }];
  },
});

registerOp({ op: 'Clip', infer: sameAs(0) });
