// OnlineContrastiveLoss: ContrastiveLoss restricted to the hard pairs of the batch. With d the
// pair distance (cosine distance 1 − cos(u, v) by default), P the positive pairs (label 1) and
// N the negative pairs (label 0):
//   hard negatives: n ∈ N with d_n < max_{p∈P} d_p   (threshold mean_{n∈N} d_n when |P| ≤ 1)
//   hard positives: p ∈ P with d_p > min_{n∈N} d_n   (threshold mean_{p∈P} d_p when |N| ≤ 1)
//   loss = Σ_{hard p} d_p² + Σ_{hard n} max(m − d_n, 0)²      margin m = 0.5 by default
// The selection thresholds carry no gradient; the loss is a sum (no mean).
// Inputs: texts (anchor, other) pairs; labels: 1 for a similar pair, 0 for a dissimilar one.

import type { Value } from '../graph/ir.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { c, checkInputs, labelsAs, masked, reduceMin, square, sumAll } from './ops.js';
import { DISTANCE_METRICS, rowDistance, type DistanceMetric } from './similarity.js';
import { SIAMESE_METRIC_NAME } from './contrastive_loss.js';

export interface OnlineContrastiveLossOptions {
  distanceMetric?: DistanceMetric;
  margin?: number;
}

export class OnlineContrastiveLoss implements Loss {
  readonly name = 'OnlineContrastiveLoss';
  readonly columns: ColumnSpec = { names: ['anchor', 'other'], min: 2, max: 2 };
  readonly labelKind: LabelKind = 'class';
  readonly distanceMetric: DistanceMetric;
  readonly margin: number;

  constructor(opts: OnlineContrastiveLossOptions = {}) {
    this.distanceMetric = opts.distanceMetric ?? 'cosine';
    this.margin = opts.margin ?? 0.5;
    if (!DISTANCE_METRICS.includes(this.distanceMetric)) throw new Error(`OnlineContrastiveLoss: distanceMetric must be one of ${DISTANCE_METRICS.join(', ')}`);
    if (!Number.isFinite(this.margin)) throw new Error('OnlineContrastiveLoss: margin must be a finite number');
  }

  build(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    const labels = checkInputs(this, ctx)!;
    const [u, v] = embeddings;
    const d = rowDistance(g, this.distanceMetric, u, v);
    const y = labelsAs(g, labels, u.dtype);
    const isPos = g.equal(y, c(g, u, 1));
    const isNeg = g.equal(y, c(g, u, 0));
    const count = (m: Value): Value => sumAll(g, g.cast(m, u.dtype));
    const nPos = count(isPos);
    const nNeg = count(isNeg);
    const meanOf = (m: Value, n: Value): Value => g.div(sumAll(g, masked(g, m, d)), n);
    const inf = c(g, u, Infinity);
    const posMax = g.reduceMax(g.where(isPos, d, g.neg(inf)), [0], false);
    const negMin = reduceMin(g, g.where(isNeg, d, inf), [0], false);
    const one = c(g, u, 1);
    const negThreshold = g.where(g.op1('Greater', [nPos, one]), posMax, meanOf(isNeg, nNeg));
    const posThreshold = g.where(g.op1('Greater', [nNeg, one]), negMin, meanOf(isPos, nPos));
    const and = (a: Value, b: Value): Value => g.op1('And', [a, b]);
    const hardNeg = and(isNeg, g.op1('Less', [d, negThreshold]));
    const hardPos = and(isPos, g.op1('Greater', [d, posThreshold]));
    const positiveLoss = sumAll(g, masked(g, hardPos, square(g, d)));
    const negativeLoss = sumAll(g, masked(g, hardNeg, square(g, g.relu(g.sub(c(g, u, this.margin), d)))));
    return g.add(positiveLoss, negativeLoss);
  }

  config(): Record<string, unknown> {
    return { distance_metric: SIAMESE_METRIC_NAME[this.distanceMetric], margin: this.margin };
  }
}
