// CosineSimilarityLoss: for pairs of texts (u, v) labelled with a similarity score y, it
// regresses the cosine similarity of the two embeddings onto the score:
//   loss = mean_i (cos(u_i, v_i) − y_i)²      lossFct 'mse' (the default, torch MSELoss)
//   loss = mean_i |cos(u_i, v_i) − y_i|       lossFct 'l1'  (torch L1Loss)
// where cos is torch's cosine_similarity (each norm clamped at 1e-8).
// Inputs: texts (sentence_A, sentence_B) pairs; labels: one float score per pair (e.g. in [0, 1]).

import type { Value } from '../graph/ir.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { checkInputs, labelsAs, meanAll, square } from './ops.js';
import { cosineSimilarity } from './similarity.js';

export type RegressionLoss = 'mse' | 'l1';
export const REGRESSION_LOSSES: readonly RegressionLoss[] = ['mse', 'l1'];

export interface CosineSimilarityLossOptions {
  lossFct?: RegressionLoss;
}

export class CosineSimilarityLoss implements Loss {
  readonly name = 'CosineSimilarityLoss';
  readonly columns: ColumnSpec = { names: ['sentence_A', 'sentence_B'], min: 2, max: 2 };
  readonly labelKind: LabelKind = 'score';
  readonly lossFct: RegressionLoss;

  constructor(opts: CosineSimilarityLossOptions = {}) {
    this.lossFct = opts.lossFct ?? 'mse';
    if (!REGRESSION_LOSSES.includes(this.lossFct)) throw new Error(`CosineSimilarityLoss: lossFct must be one of ${REGRESSION_LOSSES.join(', ')}`);
  }

  build(ctx: LossContext): Value {
    const { g, embeddings } = ctx;
    const labels = checkInputs(this, ctx)!;
    const [u, v] = embeddings;
    const err = g.sub(cosineSimilarity(g, u, v), labelsAs(g, labels, u.dtype));
    return meanAll(g, this.lossFct === 'mse' ? square(g, err) : g.op1('Abs', [err]));
  }

  config(): Record<string, unknown> {
    return { loss_fct: this.lossFct === 'mse' ? 'torch.nn.modules.loss.MSELoss' : 'torch.nn.modules.loss.L1Loss' };
  }
}
