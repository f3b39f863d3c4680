// MarginMSELoss (margin distillation): for (query, positive, negative) triplets labelled with
// a teacher's margin sim_T(q, p) − sim_T(q, n), the student's margin should match it:
//   loss = mean_i ((sim(q_i, p_i) − sim(q_i, n_i)) − y_i)²
// with sim the row-wise dot product by default.
// Inputs: texts (query, positive, negative) triplets; labels: one float margin per triplet.
// Reference: Hofstätter et al., "Improving Efficient Neural Ranking Models with Cross-
// Architecture Knowledge Distillation" (2020), arXiv:2010.02666.

import type { Value } from '../graph/ir.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { checkInputs, labelsAs, meanAll, square } from './ops.js';
import { PAIRWISE_SIMILARITY_FUNCTIONS, pairwiseSimilarity, type PairwiseSimilarityFunction } from './similarity.js';

export interface MarginMSELossOptions {
  similarityFct?: PairwiseSimilarityFunction;
}

export class MarginMSELoss implements Loss {
  readonly name = 'MarginMSELoss';
  readonly columns: ColumnSpec = { names: ['query', 'positive', 'negative'], min: 3, max: 3 };
  readonly labelKind: LabelKind = 'score';
  readonly similarityFct: PairwiseSimilarityFunction;

  constructor(opts: MarginMSELossOptions = {}) {
    this.similarityFct = opts.similarityFct ?? 'pairwise_dot_score';
    if (!PAIRWISE_SIMILARITY_FUNCTIONS.includes(this.similarityFct)) {
      throw new Error(`MarginMSELoss: similarityFct must be one of ${PAIRWISE_SIMILARITY_FUNCTIONS.join(', ')}`);
    }
  }

  build(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    const labels = checkInputs(this, ctx)!;
    const [q, p, n] = embeddings;
    const margin = g.sub(pairwiseSimilarity(g, this.similarityFct, q, p), pairwiseSimilarity(g, this.similarityFct, q, n));
    return meanAll(g, square(g, g.sub(margin, labelsAs(g, labels, q.dtype))));
  }

  config(): Record<string, unknown> {
    return { similarity_fct: this.similarityFct };
  }
}
