// CoSENTLoss: for pairs of texts labelled with a similarity score, it asks that every pair
// with a higher label gets a higher similarity than every pair with a lower label. With
// s_i = sim(u_i, v_i) (pairwise cosine by default) and scale λ (20 by default):
//   loss = log(1 + Σ_{(i, j): y_i < y_j} exp(λ·(s_i − s_j)))
// Pairs with equal labels contribute nothing; the sum runs over the whole batch (no mean).
// Inputs: texts (sentence_A, sentence_B) pairs; labels: one float score per pair.
// Reference: Su Jianlin, "CoSENT" (2022).

import type { Value } from '../graph/ir.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { c, checkInputs, labelsAs, logOnePlusSumExp } from './ops.js';
import { PAIRWISE_SIMILARITY_FUNCTIONS, pairwiseSimilarity, type PairwiseSimilarityFunction } from './similarity.js';

export interface CoSENTLossOptions {
  scale?: number;
  similarityFct?: PairwiseSimilarityFunction;
}

export class CoSENTLoss implements Loss {
  readonly name: string = 'CoSENTLoss';
  readonly columns: ColumnSpec = { names: ['sentence_A', 'sentence_B'], min: 2, max: 2 };
  readonly labelKind: LabelKind = 'score';
  readonly scale: number;
  readonly similarityFct: PairwiseSimilarityFunction;

  constructor(opts: CoSENTLossOptions = {}, defaults: { similarityFct: PairwiseSimilarityFunction } = { similarityFct: 'pairwise_cos_sim' }) {
    this.scale = opts.scale ?? 20;
    this.similarityFct = opts.similarityFct ?? defaults.similarityFct;
    if (!Number.isFinite(this.scale)) throw new Error(`${this.constructor.name}: scale must be a finite number`);
    if (!PAIRWISE_SIMILARITY_FUNCTIONS.includes(this.similarityFct)) {
      throw new Error(`${this.constructor.name}: similarityFct must be one of ${PAIRWISE_SIMILARITY_FUNCTIONS.join(', ')}`);
    }
  }

  build(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    const labels = checkInputs(this, ctx)!;
    const [u, v] = embeddings;
    const s = g.mul(pairwiseSimilarity(g, this.similarityFct, u, v), c(g, u, this.scale));
    // diff[i, j] = λ·(s_i − s_j), counted where y_i < y_j
    const diff = g.sub(g.unsqueeze(s, [1]), g.unsqueeze(s, [0]));
    const y = labelsAs(g, labels, u.dtype);
    const lower = g.op1('Less', [g.unsqueeze(y, [1]), g.unsqueeze(y, [0])]);
    return logOnePlusSumExp(g, diff, lower);
  }

  config(): Record<string, unknown> {
    return { scale: this.scale, similarity_fct: this.similarityFct };
  }
}
