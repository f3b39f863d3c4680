// MultipleNegativesRankingLoss (InfoNCE with in-batch negatives): for a batch of
// (anchor a_i, positive p_i, [negative n_i^1, …]) rows, each anchor must pick its own positive
// among all candidates of the batch — every positive and every hard negative:
//   C = [p_1 … p_B, n_1^1 … n_B^1, …]       S_ij = λ·sim(a_i, C_j)
//   loss = mean_i −log softmax(S_i)[i]        (cross-entropy with target i)
// with sim cos_sim by default and scale λ = 20.
// Inputs: texts (anchor, positive) pairs or (anchor, positive, negative_1, …, negative_n)
// tuples; no labels.
// Reference: Henderson et al., "Efficient Natural Language Response Suggestion for Smart
// Reply" (2017), arXiv:1705.00652.

import type { Value } from '../graph/ir.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { c, checkInputs, crossEntropyDiagonal } from './ops.js';
import { SIMILARITY_FUNCTIONS, similarity, type SimilarityFunction } from './similarity.js';

export interface MultipleNegativesRankingLossOptions {
  scale?: number;
  similarityFct?: SimilarityFunction;
}

export class MultipleNegativesRankingLoss implements Loss {
  readonly name: string = 'MultipleNegativesRankingLoss';
  readonly columns: ColumnSpec = { names: ['anchor', 'positive', 'negative'], min: 2, max: Infinity };
  readonly labelKind: LabelKind = 'none';
  readonly scale: number;
  readonly similarityFct: SimilarityFunction;

  constructor(opts: MultipleNegativesRankingLossOptions = {}) {
    this.scale = opts.scale ?? 20;
    this.similarityFct = opts.similarityFct ?? 'cos_sim';
    if (!Number.isFinite(this.scale)) throw new Error(`${this.constructor.name}: scale must be a finite number`);
    if (!SIMILARITY_FUNCTIONS.includes(this.similarityFct)) {
      throw new Error(`${this.constructor.name}: similarityFct must be one of ${SIMILARITY_FUNCTIONS.join(', ')}`);
    }
  }

  /** λ·sim(anchors, all candidates): [B, (columns − 1)·B]. */
  protected scores(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    checkInputs(this, ctx);
    const [anchor, ...rest] = embeddings;
    const candidates = rest.length === 1 ? rest[0] : g.concat(rest, 0);
    return g.mul(similarity(g, this.similarityFct, anchor, candidates), c(g, anchor, this.scale));
  }

  build(ctx: LossContext): Value {
    return crossEntropyDiagonal(ctx.g, this.scores(ctx));
  }

  config(): Record<string, unknown> {
    return { scale: this.scale, similarity_fct: this.similarityFct };
  }
}
