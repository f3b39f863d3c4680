// Similarity functions between embeddings, as graph ops, named as in sentence-transformers' util.
// Matrix forms take a [N, D] and b [M, D] and give S [N, M]:
//   cos_sim:       S_ij = â_i · b̂_j,  x̂ = x / max(‖x‖₂, 1e-12)
//   dot_score:     S_ij = a_i · b_j
//   euclidean_sim: S_ij = −‖a_i − b_j‖₂
//   manhattan_sim: S_ij = −‖a_i − b_j‖₁
// Pairwise (row-wise) forms take a, b [B, D] and give s [B] with s_i = sim(a_i, b_i), plus
//   pairwise_angle_sim: the two halves of a row are the real and imaginary parts of a complex
//   vector; with x = p + iq, y = r + is, s = |Σ_k ((p r + q s) + (q r − p s))_k| / (‖x‖₂ ‖y‖₂)
//   (the absolute normalised angle difference of AnglE).
// Also the distances of torch.nn.functional that TripletLoss and the contrastive losses use:
//   pairwiseDistance(a, b, p) = ‖a − b + 1e-6‖_p   cosineSimilarity(a, b) = â · b̂, eps 1e-8.
// Euclidean distances take the square root of max(Σ d², 1e-30), so that two identical vectors
// get a zero gradient (as torch.cdist gives) instead of 0/0.

import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import { c, square } from './ops.js';

export type SimilarityFunction = 'cos_sim' | 'dot_score' | 'euclidean_sim' | 'manhattan_sim';
export type PairwiseSimilarityFunction =
  | 'pairwise_cos_sim'
  | 'pairwise_dot_score'
  | 'pairwise_euclidean_sim'
  | 'pairwise_manhattan_sim'
  | 'pairwise_angle_sim';

export const SIMILARITY_FUNCTIONS: readonly SimilarityFunction[] = ['cos_sim', 'dot_score', 'euclidean_sim', 'manhattan_sim'];
export const PAIRWISE_SIMILARITY_FUNCTIONS: readonly PairwiseSimilarityFunction[] = [
  'pairwise_cos_sim',
  'pairwise_dot_score',
  'pairwise_euclidean_sim',
  'pairwise_manhattan_sim',
  'pairwise_angle_sim',
];

const TINY = 1e-30;

/** √max(x, 1e-30): the square root with a zero gradient where x is 0. */
function safeSqrt(g: GraphBuilder, x: Value): Value {
  return g.sqrt(g.max(x, c(g, x, TINY)));
}

/** Rows of x divided by max(‖row‖₂, eps) (torch.nn.functional.normalize along the last axis). */
export function normalize(g: GraphBuilder, x: Value, eps = 1e-12): Value {
  return g.div(x, g.max(g.reduceL2(x, [-1], true), c(g, x, eps)));
}

function transposed(g: GraphBuilder, x: Value): Value {
  return g.transpose(x, [1, 0]);
}

/** a_i − b_j for every pair: [N, M, D]. */
function allDifferences(g: GraphBuilder, a: Value, b: Value): Value {
  return g.sub(g.unsqueeze(a, [1]), g.unsqueeze(b, [0]));
}

export function cosSim(g: GraphBuilder, a: Value, b: Value): Value {
  return g.matMul(normalize(g, a), transposed(g, normalize(g, b)));
}

export function dotScore(g: GraphBuilder, a: Value, b: Value): Value {
  return g.matMul(a, transposed(g, b));
}

export function euclideanSim(g: GraphBuilder, a: Value, b: Value): Value {
  return g.neg(safeSqrt(g, g.reduceSum(square(g, allDifferences(g, a, b)), [2], false)));
}

export function manhattanSim(g: GraphBuilder, a: Value, b: Value): Value {
  return g.neg(g.reduceSum(g.op1('Abs', [allDifferences(g, a, b)]), [2], false));
}

/** The [N, M] similarity matrix of `fn`. */
export function similarity(g: GraphBuilder, fn: SimilarityFunction, a: Value, b: Value): Value {
  switch (fn) {
    case 'cos_sim': return cosSim(g, a, b);
    case 'dot_score': return dotScore(g, a, b);
    case 'euclidean_sim': return euclideanSim(g, a, b);
    case 'manhattan_sim': return manhattanSim(g, a, b);
  }
}

function rowSum(g: GraphBuilder, x: Value): Value {
  return g.reduceSum(x, [-1], false);
}

export function pairwiseCosSim(g: GraphBuilder, a: Value, b: Value): Value {
  return rowSum(g, g.mul(normalize(g, a), normalize(g, b)));
}

export function pairwiseDotScore(g: GraphBuilder, a: Value, b: Value): Value {
  return rowSum(g, g.mul(a, b));
}

export function pairwiseEuclideanSim(g: GraphBuilder, a: Value, b: Value): Value {
  return g.neg(safeSqrt(g, rowSum(g, square(g, g.sub(a, b)))));
}

export function pairwiseManhattanSim(g: GraphBuilder, a: Value, b: Value): Value {
  return g.neg(rowSum(g, g.op1('Abs', [g.sub(a, b)])));
}

/** The two halves of x [B, D] along the last axis (D must be even and known). */
function halves(g: GraphBuilder, x: Value): [Value, Value] {
  const d = x.shape?.[1];
  if (typeof d !== 'number' || d % 2 !== 0) {
    throw new Error(`pairwise_angle_sim needs an even, fixed embedding dimension (got ${String(d)})`);
  }
  return [g.slice(x, [0], [d / 2], [1]), g.slice(x, [d / 2], [d], [1])];
}

export function pairwiseAngleSim(g: GraphBuilder, x: Value, y: Value): Value {
  const [p, q] = halves(g, x);
  const [r, s] = halves(g, y);
  const keepSum = (v: Value): Value => g.reduceSum(v, [1], true);
  const z = keepSum(g.add(square(g, r), square(g, s))); // ‖y‖²
  const re = g.div(g.add(g.mul(p, r), g.mul(q, s)), z);
  const im = g.div(g.sub(g.mul(q, r), g.mul(p, s)), z);
  const normX = g.sqrt(keepSum(g.add(square(g, p), square(g, q))));
  const normY = g.sqrt(z);
  const ratio = g.div(normX, normY);
  const total = rowSum(g, g.concat([g.div(re, ratio), g.div(im, ratio)], 1));
  return g.op1('Abs', [total]);
}

/** The [B] row-wise similarity of `fn`. */
export function pairwiseSimilarity(g: GraphBuilder, fn: PairwiseSimilarityFunction, a: Value, b: Value): Value {
  switch (fn) {
    case 'pairwise_cos_sim': return pairwiseCosSim(g, a, b);
    case 'pairwise_dot_score': return pairwiseDotScore(g, a, b);
    case 'pairwise_euclidean_sim': return pairwiseEuclideanSim(g, a, b);
    case 'pairwise_manhattan_sim': return pairwiseManhattanSim(g, a, b);
    case 'pairwise_angle_sim': return pairwiseAngleSim(g, a, b);
  }
}

/** torch.nn.functional.cosine_similarity along the last axis: â · b̂ with norms clamped at eps. */
export function cosineSimilarity(g: GraphBuilder, a: Value, b: Value, eps = 1e-8): Value {
  return rowSum(g, g.mul(normalize(g, a, eps), normalize(g, b, eps)));
}

/** torch.nn.functional.pairwise_distance: ‖a − b + eps‖_p along the last axis, p ∈ {1, 2}. */
export function pairwiseDistance(g: GraphBuilder, a: Value, b: Value, p: 1 | 2, eps = 1e-6): Value {
  const d = g.add(g.sub(a, b), c(g, a, eps));
  return p === 1 ? rowSum(g, g.op1('Abs', [d])) : g.sqrt(rowSum(g, square(g, d)));
}

/** Row-wise distances of TripletLoss (TripletDistanceMetric) and the contrastive losses (SiameseDistanceMetric). */
export type DistanceMetric = 'euclidean' | 'manhattan' | 'cosine';
export const DISTANCE_METRICS: readonly DistanceMetric[] = ['euclidean', 'manhattan', 'cosine'];

/** d(a_i, b_i) [B]: euclidean ‖a − b + 1e-6‖₂, manhattan ‖a − b + 1e-6‖₁, cosine 1 − cos(a, b). */
export function rowDistance(g: GraphBuilder, metric: DistanceMetric, a: Value, b: Value): Value {
  switch (metric) {
    case 'euclidean': return pairwiseDistance(g, a, b, 2);
    case 'manhattan': return pairwiseDistance(g, a, b, 1);
    case 'cosine': return g.sub(c(g, a, 1), cosineSimilarity(g, a, b));
  }
}
