// TripletLoss: for (anchor, positive, negative) triplets, the anchor should be closer to the
// positive than to the negative by at least a margin ε (5 by default):
//   loss = mean_i max(d(a_i, p_i) − d(a_i, n_i) + ε, 0)
// with d the euclidean distance by default (torch pairwise_distance, ‖x − y + 1e-6‖₂), or
// 'manhattan' (‖x − y + 1e-6‖₁) or 'cosine' (1 − cos(x, y)).
// Inputs: texts (anchor, positive, negative) triplets; no labels.
// Reference: Schroff et al., "FaceNet" (2015), arXiv:1503.03832.

import type { Value } from '../graph/ir.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { c, checkInputs, meanAll } from './ops.js';
import { DISTANCE_METRICS, rowDistance, type DistanceMetric } from './similarity.js';

export interface TripletLossOptions {
  distanceMetric?: DistanceMetric;
  margin?: number;
}

const METRIC_NAME: Record<DistanceMetric, string> = { euclidean: 'EUCLIDEAN', manhattan: 'MANHATTAN', cosine: 'COSINE' };

export class TripletLoss implements Loss {
  readonly name = 'TripletLoss';
  readonly columns: ColumnSpec = { names: ['anchor', 'positive', 'negative'], min: 3, max: 3 };
  readonly labelKind: LabelKind = 'none';
  readonly distanceMetric: DistanceMetric;
  readonly margin: number;

  constructor(opts: TripletLossOptions = {}) {
    this.distanceMetric = opts.distanceMetric ?? 'euclidean';
    this.margin = opts.margin ?? 5;
    if (!DISTANCE_METRICS.includes(this.distanceMetric)) throw new Error(`TripletLoss: distanceMetric must be one of ${DISTANCE_METRICS.join(', ')}`);
    if (!Number.isFinite(this.margin)) throw new Error('TripletLoss: margin must be a finite number');
  }

  build(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    checkInputs(this, ctx);
    const [a, p, n] = embeddings;
    const dPos = rowDistance(g, this.distanceMetric, a, p);
    const dNeg = rowDistance(g, this.distanceMetric, a, n);
    return meanAll(g, g.relu(g.add(g.sub(dPos, dNeg), c(g, a, this.margin))));
  }

  config(): Record<string, unknown> {
    return { distance_metric: `TripletDistanceMetric.${METRIC_NAME[this.distanceMetric]}`, triplet_margin: this.margin };
  }
}
