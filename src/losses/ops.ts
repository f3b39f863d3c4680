// Graph helpers shared by the losses. They work for any float dtype (constants take the dtype
// of the values they meet) and never bake the batch size in: sizes come from Shape at run time.
//   arange(n) = [0, 1, …, n−1]            indexMask(r, c)[i, j] = (i == j), an r×c "eye"
//   crossEntropyDiagonal(S) = mean_i −log softmax(S_i)[i]   (targets 0, 1, …, B−1)
//   crossEntropy(S, y)      = mean_i −log softmax(S_i)[y_i]
//   logOnePlusSumExp(X, M)  = log(1 + Σ_{M_ij} exp(X_ij)), computed as −log softmax([0, X])₀

import type { GraphBuilder } from '../graph/builder.js';
import type { DType } from '../graph/dtype.js';
import { tensor } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import type { Loss, LossContext } from './loss.js';

/** A scalar constant in x's dtype. */
export function c(g: GraphBuilder, x: Value, v: number): Value {
  return g.scalar(v, x.dtype);
}

/** Size of axis `axis` of x at run time, as an int64 scalar. */
export function dimOf(g: GraphBuilder, x: Value, axis: number): Value {
  return g.squeeze(g.shapeOf(x, axis, axis + 1), [0]);
}

/** [0, 1, …, n−1] (int64) for an int64 scalar n. */
export function arange(g: GraphBuilder, n: Value): Value {
  return g.op1('Range', [g.scalar(0, 'int64'), n, g.scalar(1, 'int64')]);
}

/** Boolean [rows, cols] mask, true where the row index equals the column index. */
export function indexMask(g: GraphBuilder, rows: Value, cols: Value): Value {
  return g.equal(g.unsqueeze(arange(g, rows), [1]), g.unsqueeze(arange(g, cols), [0]));
}

/** Mean over every element (a scalar). */
export function meanAll(g: GraphBuilder, x: Value): Value {
  const r = x.rank;
  if (r === null) throw new Error('losses: a value of unknown rank cannot be averaged');
  return r === 0 ? x : g.reduceMean(x, Array.from({ length: r }, (_, i) => i), false);
}

/** Sum over every element (a scalar). */
export function sumAll(g: GraphBuilder, x: Value): Value {
  const r = x.rank;
  if (r === null) throw new Error('losses: a value of unknown rank cannot be summed');
  return r === 0 ? x : g.reduceSum(x, Array.from({ length: r }, (_, i) => i), false);
}

export function square(g: GraphBuilder, x: Value): Value {
  return g.mul(x, x);
}

/** Row-wise minimum as −max(−x) (ReduceMin has no gradient rule). */
export function reduceMin(g: GraphBuilder, x: Value, axes: number[], keepdims = true): Value {
  return g.neg(g.reduceMax(g.neg(x), axes, keepdims));
}

/** Where `mask` holds, x; elsewhere 0. */
export function masked(g: GraphBuilder, mask: Value, x: Value): Value {
  return g.where(mask, x, c(g, x, 0));
}

/**
 * Cross-entropy of logits [B, C] (C ≥ B) whose target for row i is column i, averaged over
 * the rows: mean_i −log softmax(S_i)[i].
 */
export function crossEntropyDiagonal(g: GraphBuilder, logits: Value): Value {
  const logp = g.op1('LogSoftmax', [logits], { axis: 1 });
  const eye = indexMask(g, dimOf(g, logits, 0), dimOf(g, logits, 1));
  const picked = g.reduceSum(masked(g, eye, logp), [1], false);
  return g.neg(g.reduceMean(picked, [0], false));
}

/** Cross-entropy of logits [B, K] against integer classes [B], averaged over the rows. */
export function crossEntropy(g: GraphBuilder, logits: Value, classes: Value, numClasses: number): Value {
  const logp = g.op1('LogSoftmax', [logits], { axis: 1 });
  const ids = g.constant(tensor('int64', [1, numClasses], Array.from({ length: numClasses }, (_, i) => i)));
  const onehot = g.equal(g.unsqueeze(g.cast(classes, 'int64'), [1]), ids);
  const picked = g.reduceSum(masked(g, onehot, logp), [1], false);
  return g.neg(g.reduceMean(picked, [0], false));
}

/**
 * log(1 + Σ exp(x)) over the entries of x [B, B] where `mask` holds, as a scalar. Entries
 * outside the mask are lowered by 1e12 (so that exp gives 0), then
 * log(1 + Σ exp(x)) = logsumexp([0, x…]) = −log softmax([0, x…])₀, which stays finite for
 * any x and has gradient rules throughout.
 */
export function logOnePlusSumExp(g: GraphBuilder, x: Value, mask: Value): Value {
  const lowered = g.where(mask, x, g.sub(x, c(g, x, 1e12)));
  const flat = g.reshape(lowered, [1, -1]);
  const zero = g.constant(tensor(x.dtype, [1, 1], [0]));
  const logp = g.op1('LogSoftmax', [g.concat([zero, flat], 1)], { axis: 1 });
  return g.neg(sumAll(g, g.slice(logp, [0], [1], [1])));
}

/** Labels as floats of `dtype` (score and class labels both). */
export function labelsAs(g: GraphBuilder, labels: Value, dtype: DType): Value {
  return g.cast(labels, dtype);
}

/** Checks the column count and the presence of labels; returns the labels (or null). */
export function checkInputs(loss: Loss, ctx: LossContext): Value | null {
  const n = ctx.embeddings.length;
  const { min, max, names } = loss.columns;
  if (n < min || n > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new Error(`${loss.name} takes ${want} text column(s) (${names.join(', ')}${max === Infinity ? ', …' : ''}), got ${n}`);
  }
  const dtype = ctx.embeddings[0].dtype;
  for (const e of ctx.embeddings) {
    if (e.dtype !== dtype) throw new Error(`${loss.name}: embedding columns have different dtypes (${dtype}, ${e.dtype})`);
    if (e.rank !== 2) throw new Error(`${loss.name}: embeddings must be [batch, dim] matrices`);
  }
  if (loss.labelKind !== 'none' && !ctx.labels) throw new Error(`${loss.name} needs ${loss.labelKind} labels`);
  return loss.labelKind === 'none' ? null : ctx.labels;
}
