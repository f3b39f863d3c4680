// BatchAllTripletLoss: single texts with class labels; the loss is taken over every valid
// triplet (a, p, n) of the batch — a, p, n distinct, y_a = y_p, y_a ≠ y_n:
//   D = pairwise distance matrix (euclidean by default, or cosine 1 − cos_sim)
//   t_apn = max(M_apn·(D_ap − D_an + ε), 0)       margin ε = 5 by default
//   loss = Σ t_apn / (#{t_apn > 1e-16} + 1e-16)
// i.e. the mean over the triplets that still have a positive loss (0 when none has).
// Inputs: single texts; labels: an integer class per text (each class at least twice a batch).
// Reference: Hermans et al., "In Defense of the Triplet Loss for Person Re-Identification"
// (2017), arXiv:1703.07737.

import type { Value } from '../graph/ir.js';
import { BatchHardTripletLoss, batchDistances, distinctIndex, sameLabel } from './batch_hard_triplet_loss.js';
import type { LossContext } from './loss.js';
import { c, checkInputs, sumAll } from './ops.js';

export class BatchAllTripletLoss extends BatchHardTripletLoss {
  override readonly name: string = 'BatchAllTripletLoss';

  override build(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    const labels = checkInputs(this, ctx)!;
    const x = embeddings[0];
    const d = batchDistances(g, this.distanceMetric, x);
    const and = (a: Value, b: Value): Value => g.op1('And', [a, b]);
    const same = sameLabel(g, labels);
    const distinct = distinctIndex(g, labels);
    // [a, p, n]: a ≠ p, a ≠ n, p ≠ n, y_a = y_p, y_a ≠ y_n
    const distinct3 = and(and(g.unsqueeze(distinct, [2]), g.unsqueeze(distinct, [1])), g.unsqueeze(distinct, [0]));
    const labels3 = and(g.unsqueeze(same, [2]), g.not(g.unsqueeze(same, [1])));
    const valid = g.cast(and(labels3, distinct3), x.dtype);
    const raw = g.add(g.sub(g.unsqueeze(d, [2]), g.unsqueeze(d, [1])), c(g, x, this.margin));
    const t = g.relu(g.mul(valid, raw));
    const positive = sumAll(g, g.cast(g.op1('Greater', [t, c(g, x, 1e-16)]), x.dtype));
    return g.div(sumAll(g, t), g.add(positive, c(g, x, 1e-16)));
  }
}
