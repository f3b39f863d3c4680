// BatchHardTripletLoss: single texts with class labels; every text is an anchor, and its
// triplet is formed from the hardest positive (the farthest text of its class) and the
// hardest negative (the closest text of another class) in the batch:
//   D = pairwise distance matrix (euclidean by default, or cosine 1 − cos_sim)
//   P_a = max_p M⁺_ap·D_ap                   M⁺_ap = [y_a = y_p, a ≠ p]
//   N_a = min_n (D_an + max_k D_ak·(1 − M⁻_an))   M⁻_an = [y_a ≠ y_n]
//   loss = mean_a max(P_a − N_a + ε, 0)       margin ε = 5 by default
// The euclidean matrix is √(‖x_i‖² − 2 x_i·x_j + ‖x_j‖²), clamped at 0, with exact zeros kept
// at 0 (the square root then gets no gradient there).
// Inputs: single texts; labels: an integer class per text (each class at least twice a batch).
// Reference: Hermans et al., "In Defense of the Triplet Loss for Person Re-Identification"
// (2017), arXiv:1703.07737.

import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { c, checkInputs, dimOf, indexMask, meanAll, reduceMin } from './ops.js';
import { cosSim } from './similarity.js';

export type BatchDistanceMetric = 'euclidean' | 'cosine';
export const BATCH_DISTANCE_METRICS: readonly BatchDistanceMetric[] = ['euclidean', 'cosine'];

export const BATCH_METRIC_NAME: Record<BatchDistanceMetric, string> = {
  euclidean: 'BatchHardTripletLossDistanceFunction.eucledian_distance',
  cosine: 'BatchHardTripletLossDistanceFunction.cosine_distance',
};

/** The [B, B] distance matrix between the rows of x. */
export function batchDistances(g: GraphBuilder, metric: BatchDistanceMetric, x: Value): Value {
  if (metric === 'cosine') return g.sub(c(g, x, 1), cosSim(g, x, x));
  const dot = g.matMul(x, g.transpose(x, [1, 0]));
  const n = dimOf(g, x, 0);
  const sq = g.reduceSum(g.where(indexMask(g, n, n), dot, c(g, x, 0)), [1], false); // diag(dot)
  const d2 = g.relu(g.add(g.sub(g.unsqueeze(sq, [0]), g.mul(dot, c(g, x, 2))), g.unsqueeze(sq, [1])));
  const zero = g.equal(d2, c(g, x, 0));
  return g.where(zero, c(g, x, 0), g.sqrt(g.where(zero, c(g, x, 1e-16), d2)));
}

/** [B, B] boolean: labels equal. */
export function sameLabel(g: GraphBuilder, labels: Value): Value {
  return g.equal(g.unsqueeze(labels, [0]), g.unsqueeze(labels, [1]));
}

/** [B, B] boolean: i ≠ j. */
export function distinctIndex(g: GraphBuilder, labels: Value): Value {
  const n = dimOf(g, labels, 0);
  return g.not(indexMask(g, n, n));
}

export interface BatchTripletLossOptions {
  distanceMetric?: BatchDistanceMetric;
  margin?: number;
}

export class BatchHardTripletLoss implements Loss {
  readonly name: string = 'BatchHardTripletLoss';
  readonly columns: ColumnSpec = { names: ['sentence'], min: 1, max: 1 };
  readonly labelKind: LabelKind = 'class';
  readonly distanceMetric: BatchDistanceMetric;
  readonly margin: number;

  constructor(opts: BatchTripletLossOptions = {}) {
    this.distanceMetric = opts.distanceMetric ?? 'euclidean';
    this.margin = opts.margin ?? 5;
    if (!BATCH_DISTANCE_METRICS.includes(this.distanceMetric)) {
      throw new Error(`${this.constructor.name}: distanceMetric must be one of ${BATCH_DISTANCE_METRICS.join(', ')}`);
    }
    if (!Number.isFinite(this.margin)) throw new Error(`${this.constructor.name}: margin must be a finite number`);
  }

  build(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    const labels = checkInputs(this, ctx)!;
    const x = embeddings[0];
    const d = batchDistances(g, this.distanceMetric, x);
    const same = sameLabel(g, labels);
    const positive = g.cast(g.op1('And', [same, distinctIndex(g, labels)]), x.dtype);
    const hardestPositive = g.reduceMax(g.mul(positive, d), [1], true);
    const negative = g.cast(g.not(same), x.dtype);
    const rowMax = g.reduceMax(d, [1], true);
    const shifted = g.add(d, g.mul(rowMax, g.sub(c(g, x, 1), negative)));
    const hardestNegative = reduceMin(g, shifted, [1], true);
    return meanAll(g, g.relu(g.add(g.sub(hardestPositive, hardestNegative), c(g, x, this.margin))));
  }

  config(): Record<string, unknown> {
    return { distance_metric: BATCH_METRIC_NAME[this.distanceMetric], margin: this.margin };
  }
}
