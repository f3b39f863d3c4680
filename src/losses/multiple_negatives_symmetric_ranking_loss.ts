// MultipleNegativesSymmetricRankingLoss: MultipleNegativesRankingLoss in both directions.
// With C = [p_1 … p_B, hard negatives…] and S_ij = λ·sim(a_i, C_j) (cos_sim, λ = 20 by default):
//   forward  = mean_i −log softmax_j(S_ij)[i]               each anchor picks its positive
//   backward = mean_j −log softmax_i(S_ij, j ≤ B)[j]        each positive picks its anchor
//              (over the anchors only; hard negatives take no part in this direction)
//   loss = (forward + backward) / 2
// Inputs: texts (anchor, positive) pairs or (anchor, positive, negative_1, …) tuples; no labels.

import type { Value } from '../graph/ir.js';
import { c, crossEntropyDiagonal, dimOf } from './ops.js';
import { MultipleNegativesRankingLoss, type MultipleNegativesRankingLossOptions } from './multiple_negatives_ranking_loss.js';
import type { LossContext } from './loss.js';

export type MultipleNegativesSymmetricRankingLossOptions = MultipleNegativesRankingLossOptions;

export class MultipleNegativesSymmetricRankingLoss extends MultipleNegativesRankingLoss {
  override readonly name: string = 'MultipleNegativesSymmetricRankingLoss';

  override build(ctx: LossContext): Value {
    const { g } = ctx;
    const scores = this.scores(ctx);
    const forward = crossEntropyDiagonal(g, scores);
    // the anchor–positive block: the first B (= number of anchors) columns
    const b = g.unsqueeze(dimOf(g, ctx.embeddings[0], 0), [0]);
    const block = g.slice(scores, [0], b, [1]);
    const backward = crossEntropyDiagonal(g, g.transpose(block, [1, 0]));
    return g.mul(g.add(forward, backward), c(g, scores, 0.5));
  }
}
