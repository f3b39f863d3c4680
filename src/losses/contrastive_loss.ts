// ContrastiveLoss: for pairs of texts labelled 1 (similar) or 0 (dissimilar), similar pairs are
// pulled together and dissimilar pairs pushed at least a margin m (0.5 by default) apart:
//   l_i = ½·(y_i·d_i² + (1 − y_i)·max(m − d_i, 0)²)
//   loss = mean_i l_i   (sizeAverage, the default)   or   Σ_i l_i
// with d the cosine distance 1 − cos(u, v) by default, or 'euclidean' / 'manhattan'
// (torch pairwise_distance, ‖u − v + 1e-6‖_p).
// Inputs: texts (anchor, other) pairs; labels: 1 for a similar pair, 0 for a dissimilar one.
// Reference: Hadsell, Chopra & LeCun, "Dimensionality Reduction by Learning an Invariant
// Mapping" (2006).

import type { Value } from '../graph/ir.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { c, checkInputs, labelsAs, meanAll, square, sumAll } from './ops.js';
import { DISTANCE_METRICS, rowDistance, type DistanceMetric } from './similarity.js';

export interface ContrastiveLossOptions {
  distanceMetric?: DistanceMetric;
  margin?: number;
  sizeAverage?: boolean;
}

export const SIAMESE_METRIC_NAME: Record<DistanceMetric, string> = {
  euclidean: 'SiameseDistanceMetric.EUCLIDEAN',
  manhattan: 'SiameseDistanceMetric.MANHATTAN',
  cosine: 'SiameseDistanceMetric.COSINE_DISTANCE',
};

export class ContrastiveLoss implements Loss {
  readonly name = 'ContrastiveLoss';
  readonly columns: ColumnSpec = { names: ['anchor', 'other'], min: 2, max: 2 };
  readonly labelKind: LabelKind = 'class';
  readonly distanceMetric: DistanceMetric;
  readonly margin: number;
  readonly sizeAverage: boolean;

  constructor(opts: ContrastiveLossOptions = {}) {
    this.distanceMetric = opts.distanceMetric ?? 'cosine';
    this.margin = opts.margin ?? 0.5;
    this.sizeAverage = opts.sizeAverage ?? true;
    if (!DISTANCE_METRICS.includes(this.distanceMetric)) throw new Error(`ContrastiveLoss: distanceMetric must be one of ${DISTANCE_METRICS.join(', ')}`);
    if (!Number.isFinite(this.margin)) throw new Error('ContrastiveLoss: margin must be a finite number');
  }

  build(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    const labels = checkInputs(this, ctx)!;
    const [u, v] = embeddings;
    const d = rowDistance(g, this.distanceMetric, u, v);
    const y = labelsAs(g, labels, u.dtype);
    const pull = g.mul(y, square(g, d));
    const push = g.mul(g.sub(c(g, u, 1), y), square(g, g.relu(g.sub(c(g, u, this.margin), d))));
    const l = g.mul(g.add(pull, push), c(g, u, 0.5));
    return this.sizeAverage ? meanAll(g, l) : sumAll(g, l);
  }

  config(): Record<string, unknown> {
    return { distance_metric: SIAMESE_METRIC_NAME[this.distanceMetric], margin: this.margin, size_average: this.sizeAverage };
  }
}
