// AnglELoss: CoSENTLoss with the angle-optimised similarity of AnglE in place of the cosine.
// Each embedding is read as a complex vector (first half real, second half imaginary parts);
// for a pair x = p + iq, y = r + is the similarity is the absolute normalised angle difference
//   a(x, y) = |Σ_k ((p r + q s) + (q r − p s))_k| / (‖x‖₂ ‖y‖₂)
// and, with scale λ (20 by default) and score labels y,
//   loss = log(1 + Σ_{(i, j): y_i < y_j} exp(λ·(a_i − a_j)))
// Inputs: texts (sentence_A, sentence_B) pairs; labels: one float score per pair. The
// embedding dimension must be even.
// Reference: Li & Li, "AnglE-optimized Text Embeddings" (2023), arXiv:2309.12871.

import { CoSENTLoss } from './cosent_loss.js';

export interface AnglELossOptions {
  scale?: number;
}

export class AnglELoss extends CoSENTLoss {
  override readonly name: string = 'AnglELoss';

  constructor(opts: AnglELossOptions = {}) {
    super({ scale: opts.scale ?? 20 }, { similarityFct: 'pairwise_angle_sim' });
  }
}
