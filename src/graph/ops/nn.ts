// Neural-network ops: Softmax / LogSoftmax, LayerNormalization (with its optional Mean and
// InvStdDev outputs, used by the backward pass), Dropout (output and mask).

import { input, intAttr, normAxis, registerOp, sameAs } from './registry.js';

registerOp({ op: 'Softmax', infer: sameAs(0) });
registerOp({ op: 'LogSoftmax', infer: sameAs(0) });

registerOp({
  op: 'LayerNormalization',
  infer(ctx) {
    const x = input(ctx, 0, 'LayerNormalization');
    if (x.shape === null) return [{ dtype: x.dtype, shape: null }, { dtype: 'float32', shape: null }, { dtype: 'float32', shape: null }];
    const axis = normAxis(intAttr(ctx.attrs, 'axis', -1), x.shape.length);
    const stat = x.shape.map((d, i) => (i < axis ? d : 1));
    return [{ dtype: x.dtype, shape: x.shape }, { dtype: 'float32', shape: stat }, { dtype: 'float32', shape: stat }];
  },
});

registerOp({
  op: 'Dropout',
  infer(ctx) {
    const x = input(ctx, 0, 'Dropout');
    return [{ dtype: x.dtype, shape: x.shape }, { dtype: 'bool', shape: x.shape }];
  },
});

registerOp({ op: 'Gelu', infer: sameAs(0) });
