// CachedMultipleNegativesRankingLoss (GradCache, Gao et al. 2021, arXiv:2101.06983): the same
// objective as MultipleNegativesRankingLoss — for (anchor, positive[, negatives…]) rows,
//   loss = mean_i −log softmax(λ·sim(a_i, C))[i],  C = all positives and negatives of the batch —
// computed so that the batch can be far larger than what fits in memory at once: the loss
// declares the GradCache step (`step`), which embeds the batch in mini-batches without
// gradients, computes the loss and its gradient with respect to the embeddings, then re-runs
// each mini-batch forward and back-propagates that embedding gradient into the weights,
// accumulating. Inputs: as MultipleNegativesRankingLoss. The second forward pass must see the
// same dropout masks as the first, which are not replayed: the step runs with dropout off.

import type { StepDeclaration } from './loss.js';
import { MultipleNegativesRankingLoss, type MultipleNegativesRankingLossOptions } from './multiple_negatives_ranking_loss.js';

export interface CachedMultipleNegativesRankingLossOptions extends MultipleNegativesRankingLossOptions {
  /** Texts embedded per forward pass (default 32). */
  miniBatchSize?: number;
}

export class CachedMultipleNegativesRankingLoss extends MultipleNegativesRankingLoss {
  override readonly name: string = 'CachedMultipleNegativesRankingLoss';
  readonly miniBatchSize: number;
  readonly step: StepDeclaration;

  constructor(opts: CachedMultipleNegativesRankingLossOptions = {}) {
    super(opts);
    this.miniBatchSize = opts.miniBatchSize ?? 32;
    if (!Number.isInteger(this.miniBatchSize) || this.miniBatchSize < 1) throw new Error('CachedMultipleNegativesRankingLoss: miniBatchSize must be a positive integer');
    this.step = { kind: 'gradcache', miniBatchSize: this.miniBatchSize };
  }

  override config(): Record<string, unknown> {
    return { ...super.config(), mini_batch_size: this.miniBatchSize };
  }
}
