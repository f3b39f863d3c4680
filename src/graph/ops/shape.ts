// Shape-manipulating ops: Reshape, Transpose, Unsqueeze, Squeeze, Concat, Gather,
// GatherElements, GatherND, NonZero, Slice, Expand, Shape, Split, Range, ConstantOfShape, Constant, Tile.
// Output shapes are computed where constant inputs make them knowable, symbolic otherwise.

import type { Dim, Shape, Value } from '../ir.js';
import { constInts, input, type InferContext, intAttr, intsAttr, normAxis, registerOp, sameAs } from './registry.js';

/** When `v` is Shape(y) taken whole, y's (possibly symbolic) shape. */
function shapeOfShapeOp(v: Value | null | undefined): Dim[] | null {
  const p = v?.producer;
  if (!p || p.op !== 'Shape' || p.attrs.start || p.attrs.end) return null;
  return p.inputs[0]?.shape ?? null;
}

registerOp({
  op: 'Reshape',
  infer(ctx) {
    const x = input(ctx, 0, 'Reshape');
    const target = constInts(ctx.consts[1] ?? null);
    const like = shapeOfShapeOp(ctx.inputs[1]);
    if (like) return [{ dtype: x.dtype, shape: [...like] }];
    if (target === null) return [{ dtype: x.dtype, shape: null }];
    const out: Dim[] = target.map((d, i) => (d === 0 ? (x.shape ? x.shape[i] : ctx.freshDim('d')) : d));
    const neg = out.indexOf(-1);
    if (neg >= 0) {
      const known = x.shape?.every((d) => typeof d === 'number');
      const others = out.filter((_, i) => i !== neg);
      if (known && x.shape && others.every((d) => typeof d === 'number')) {
        const total = (x.shape as number[]).reduce((a, b) => a * b, 1);
        out[neg] = total / (others as number[]).reduce((a, b) => a * b, 1);
      } else {
        out[neg] = ctx.freshDim('reshape');
      }
    }
    return [{ dtype: x.dtype, shape: out }];
  },
});

registerOp({
  op: 'Transpose',
  infer(ctx) {
    const x = input(ctx, 0, 'Transpose');
    if (x.shape === null) return [{ dtype: x.dtype, shape: null }];
    const perm = intsAttr(ctx.attrs, 'perm') ?? x.shape.map((_, i) => x.shape!.length - 1 - i);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape![p]) }];
  },
});

function axesOf(ctx: InferContext): number[] | null {
  return intsAttr(ctx.attrs, 'axes') ?? constInts(ctx.consts[1] ?? null);
}

registerOp({
  op: 'Unsqueeze',
  infer(ctx) {
    const x = input(ctx, 0, 'Unsqueeze');
    const axes = axesOf(ctx);
    if (x.shape === null || axes === null) return [{ dtype: x.dtype, shape: null }];
    const rank = x.shape.length + axes.length;
    const set = new Set(axes.map((a) => normAxis(a, rank)));
    const out: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(set.has(i) ? 1 : x.shape[j++]);
    return [{ dtype: x.dtype, shape: out }];
  },
});

registerOp({
  op: 'Squeeze',
  infer(ctx) {
    const x = input(ctx, 0, 'Squeeze');
    const axes = axesOf(ctx);
    if (x.shape === null) return [{ dtype: x.dtype, shape: null }];
    if (axes === null) return [{ dtype: x.dtype, shape: x.shape.filter((d) => d !== 1) }];
    const set = new Set(axes.map((a) => normAxis(a, x.shape!.length)));
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !set.has(i)) }];
  },
});

registerOp({
  op: 'Concat',
  infer(ctx) {
    const first = input(ctx, 0, 'Concat');
    if (ctx.inputs.some((v) => !v || v.shape === null)) return [{ dtype: first.dtype, shape: null }];
    const rank = first.shape!.length;
    const axis = normAxis(intAttr(ctx.attrs, 'axis', 0), rank);
    const out = [...first.shape!];
    let total: Dim = 0;
    for (const v of ctx.inputs) {
      const d = v!.shape![axis];
      total = typeof total === 'number' && typeof d === 'number' ? total + d : ctx.freshDim('concat');
    }
    out[axis] = total;
    return [{ dtype: first.dtype, shape: out }];
  },
});

registerOp({
  op: 'Gather',
  infer(ctx) {
    const x = input(ctx, 0, 'Gather');
    const idx = input(ctx, 1, 'Gather');
    if (x.shape === null || idx.shape === null) return [{ dtype: x.dtype, shape: null }];
    const axis = normAxis(intAttr(ctx.attrs, 'axis', 0), x.shape.length);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)] }];
  },
});

registerOp({
  op: 'GatherElements',
  infer: (ctx) => [{ dtype: input(ctx, 0, 'GatherElements').dtype, shape: input(ctx, 1, 'GatherElements').shape }],
});

registerOp({
  op: 'Slice',
  infer(ctx) {
    const x = input(ctx, 0, 'Slice');
    if (x.shape === null) return [{ dtype: x.dtype, shape: null }];
    const starts = constInts(ctx.consts[1] ?? null);
    const ends = constInts(ctx.consts[2] ?? null);
    const axes = ctx.inputs[3] ? constInts(ctx.consts[3] ?? null) : x.shape.map((_, i) => i).slice(0, starts?.length ?? 0);
    const steps = ctx.inputs[4] ? constInts(ctx.consts[4] ?? null) : null;
    const out: Dim[] = [...x.shape];
    if (axes === null) return [{ dtype: x.dtype, shape: x.shape.map(() => ctx.freshDim('slice')) }];
    axes.forEach((a, k) => {
      const ax = normAxis(a, x.shape!.length);
      const d = x.shape![ax];
      const s = starts?.[k];
      const e = ends?.[k];
      const st = steps?.[k] ?? 1;
      if (typeof d === 'number' && s !== undefined && e !== undefined) {
        const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));
        if (st > 0) {
          const s2 = clamp(s < 0 ? s + d : s, 0, d);
          const e2 = clamp(e < 0 ? e + d : e, 0, d);
          out[ax] = Math.max(0, Math.ceil((e2 - s2) / st));
        } else {
          const s2 = clamp(s < 0 ? s + d : s, Math.min(0, d - 1), d - 1);
          const e2 = clamp(e < 0 ? e + d : e, -1, d - 1);
          out[ax] = Math.max(0, Math.ceil((s2 - e2) / -st));
        }
      } else if (s === 0 && st === 1 && e !== undefined && e >= 2 ** 62) {
        out[ax] = d;
      } else if (st === -1 && s === -1 && e !== undefined && e <= -(2 ** 62)) {
        out[ax] = d;
      } else {
        out[ax] = ctx.freshDim('slice');
      }
    });
    return [{ dtype: x.dtype, shape: out }];
  },
});

registerOp({
  op: 'Expand',
  infer(ctx) {
    const x = input(ctx, 0, 'Expand');
    const like = shapeOfShapeOp(ctx.inputs[1]);
    if (like && x.shape && x.shape.length <= like.length) return [{ dtype: x.dtype, shape: [...like] }];
    const target = constInts(ctx.consts[1] ?? null);
    if (target === null || x.shape === null) return [{ dtype: x.dtype, shape: null }];
    const n = Math.max(target.length, x.shape.length);
    const out: Dim[] = [];
    for (let i = 0; i < n; i++) {
      const a = i < n - x.shape.length ? 1 : x.shape[i - (n - x.shape.length)];
      const b = i < n - target.length ? 1 : target[i - (n - target.length)];
      out.push(b === 1 ? a : b);
    }
    return [{ dtype: x.dtype, shape: out }];
  },
});

registerOp({
  op: 'Shape',
  infer(ctx) {
    const x = input(ctx, 0, 'Shape');
    if (x.shape === null) return [{ dtype: 'int64', shape: [ctx.freshDim('rank')] }];
    const start = intAttr(ctx.attrs, 'start', 0);
    const r = x.shape.length;
    const endA = ctx.attrs.end && ctx.attrs.end.kind === 'int' ? ctx.attrs.end.value : r;
    const s = Math.max(0, Math.min(r, start < 0 ? start + r : start));
    const e = Math.max(0, Math.min(r, endA < 0 ? endA + r : endA));
    return [{ dtype: 'int64', shape: [Math.max(0, e - s)] }];
  },
});

registerOp({
  op: 'Split',
  infer(ctx) {
    const x = input(ctx, 0, 'Split');
    const n = intAttr(ctx.attrs, 'num_outputs', 0) || (constInts(ctx.consts[1] ?? null)?.length ?? 0);
    const sizes = intsAttr(ctx.attrs, 'split') ?? constInts(ctx.consts[1] ?? null);
    const count = sizes ? sizes.length : n;
    if (count === 0) throw new Error('Split: give split sizes or num_outputs');
    return Array.from({ length: count }, (_, k) => {
      if (x.shape === null) return { dtype: x.dtype, shape: null };
      const axis = normAxis(intAttr(ctx.attrs, 'axis', 0), x.shape.length);
      const out = [...x.shape];
      const d = x.shape[axis];
      out[axis] = sizes ? sizes[k] : typeof d === 'number' ? d / count : ctx.freshDim('split');
      return { dtype: x.dtype, shape: out };
    });
  },
});

registerOp({ op: 'Range', infer: (ctx) => [{ dtype: input(ctx, 0, 'Range').dtype, shape: [ctx.freshDim('range')] }] });

registerOp({
  op: 'ConstantOfShape',
  infer(ctx) {
    const like = shapeOfShapeOp(ctx.inputs[0]);
    const dims: Dim[] | null = like ?? constInts(ctx.consts[0] ?? null);
    const v = ctx.attrs.value;
    const dtype = v && v.kind === 'tensor' ? v.value.dtype : 'float32';
    const shp = input(ctx, 0, 'ConstantOfShape').shape;
    let shape: Shape = dims;
    if (shape === null) {
      const r = shp ? shp[0] : null;
      shape = typeof r === 'number' ? Array.from({ length: r }, () => ctx.freshDim('d')) : null;
    }
    return [{ dtype, shape }];
  },
});

registerOp({
  op: 'Constant',
  infer(ctx) {
    const v = ctx.attrs.value;
    if (!v || v.kind !== 'tensor') throw new Error('Constant: only the `value` tensor attribute is supported');
    return [{ dtype: v.value.dtype, shape: v.value.dims }];
  },
});

registerOp({
  op: 'Tile',
  infer(ctx) {
    const x = input(ctx, 0, 'Tile');
    const reps = constInts(ctx.consts[1] ?? null);
    if (x.shape === null || reps === null) return [{ dtype: x.dtype, shape: x.shape ? x.shape.map(() => ctx.freshDim('tile')) : null }];
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? d * reps[i] : reps[i] === 1 ? d : ctx.freshDim('tile'))) }];
  },
});

registerOp({ op: 'Size', infer: () => [{ dtype: 'int64', shape: [] }] });
registerOp({ op: 'Pad', infer: (ctx) => { const x = input(ctx, 0, 'Pad'); return [{ dtype: x.dtype, shape: x.shape ? x.shape.map(() => ctx.freshDim('pad')) : null }]; } });
registerOp({
  op: 'NonZero',
  infer(ctx) {
    const x = input(ctx, 0, 'NonZero');
    return [{ dtype: 'int64', shape: [x.shape ? x.shape.length : ctx.freshDim('rank'), ctx.freshDim('nonzero')] }];
  },
});

registerOp({
  op: 'GatherND',
  infer(ctx) {
    // batch_dims 0: indices [..., k] pick data[i_0, …, i_{k-1}], so out = indices[:-1] + data[k:]
    const x = input(ctx, 0, 'GatherND');
    const idx = input(ctx, 1, 'GatherND');
    if (x.shape === null || idx.shape === null) return [{ dtype: x.dtype, shape: null }];
    const k = idx.shape[idx.shape.length - 1];
    if (typeof k !== 'number') return [{ dtype: x.dtype, shape: null }];
    return [{ dtype: x.dtype, shape: [...idx.shape.slice(0, -1), ...x.shape.slice(k)] }];
  },
});

registerOp({ op: 'CumSum', infer: sameAs(0) });

// Unique (sorted, flattened input): Y [U], indices [U], inverse_indices [N], counts [U]
registerOp({
  op: 'Unique',
  infer(ctx) {
    const x = input(ctx, 0, 'Unique');
    const u = ctx.freshDim('unique');
    const n = x.shape && x.shape.length === 1 ? x.shape[0] : ctx.freshDim('unique_n');
    return [{ dtype: x.dtype, shape: [u] }, { dtype: 'int64', shape: [u] }, { dtype: 'int64', shape: [n] }, { dtype: 'int64', shape: [u] }];
  },
});

registerOp({ op: 'ScatterND', infer: (ctx) => [{ dtype: input(ctx, 0, 'ScatterND').dtype, shape: input(ctx, 0, 'ScatterND').shape }] });
registerOp({ op: 'ScatterElements', infer: (ctx) => [{ dtype: input(ctx, 0, 'ScatterElements').dtype, shape: input(ctx, 0, 'ScatterElements').shape }] });
registerOp({ op: 'EyeLike', infer: (ctx) => [{ dtype: input(ctx, 0, 'EyeLike').dtype, shape: input(ctx, 0, 'EyeLike').shape }] });
