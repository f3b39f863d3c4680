// SoftmaxLoss (the SBERT NLI objective): a linear classifier over the pair's combined
// embeddings, trained with cross-entropy on the pair's class:
//   f_i = [u_i; v_i; |u_i − v_i|]      (each part optional: concatenationSentRep gives u, v;
//                                       concatenationSentDifference |u − v|;
//                                       concatenationSentMultiplication u ⊙ v, off by default)
//   z_i = W f_i + b                     W [numLabels, k·dim], b [numLabels]
//   loss = mean_i −log softmax(z_i)[y_i]
// The classifier is a trainable parameter of the loss ('classifier.weight', 'classifier.bias'),
// initialised as torch's Linear: both ~ U(−1/√fan_in, 1/√fan_in), from a seeded generator.
// Inputs: texts (sentence_A, sentence_B) pairs; labels: an integer class in [0, numLabels).
// Reference: Reimers & Gurevych, "Sentence-BERT" (2019), arXiv:1908.10084.

import type { Value } from '../graph/ir.js';
import { Rng } from '../models/init.js';
import type { Param } from '../models/params.js';
import type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
import { checkInputs, crossEntropy } from './ops.js';

export interface SoftmaxLossOptions {
  /** Width of the sentence embeddings (the classifier's input is a multiple of it). */
  embeddingDim: number;
  numLabels: number;
  concatenationSentRep?: boolean;
  concatenationSentDifference?: boolean;
  concatenationSentMultiplication?: boolean;
  /** Seed of the classifier's initial weights. */
  seed?: number;
}

export class SoftmaxLoss implements Loss {
  readonly name = 'SoftmaxLoss';
  readonly columns: ColumnSpec = { names: ['sentence_A', 'sentence_B'], min: 2, max: 2 };
  readonly labelKind: LabelKind = 'class';
  readonly embeddingDim: number;
  readonly numLabels: number;
  readonly concatenationSentRep: boolean;
  readonly concatenationSentDifference: boolean;
  readonly concatenationSentMultiplication: boolean;
  readonly seed: number;

  constructor(opts: SoftmaxLossOptions) {
    this.embeddingDim = opts.embeddingDim;
    this.numLabels = opts.numLabels;
    this.concatenationSentRep = opts.concatenationSentRep ?? true;
    this.concatenationSentDifference = opts.concatenationSentDifference ?? true;
    this.concatenationSentMultiplication = opts.concatenationSentMultiplication ?? false;
    this.seed = opts.seed ?? 42;
    for (const [k, v] of [['embeddingDim', this.embeddingDim], ['numLabels', this.numLabels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`SoftmaxLoss: ${k} must be a positive integer (got ${String(v)})`);
    }
    if (this.vectors() === 0) throw new Error('SoftmaxLoss: at least one of the concatenation options must be true');
  }

  /** How many dim-wide vectors make up the classifier input. */
  private vectors(): number {
    return (this.concatenationSentRep ? 2 : 0) + (this.concatenationSentDifference ? 1 : 0) + (this.concatenationSentMultiplication ? 1 : 0);
  }

  get inFeatures(): number {
    return this.vectors() * this.embeddingDim;
  }

  build(ctx: LossContext): Value {
    const { g, embeddings, params } = ctx;
    const labels = checkInputs(this, ctx)!;
    const [u, v] = embeddings;
    const dim = u.shape?.[1];
    if (typeof dim === 'number' && dim !== this.embeddingDim) {
      throw new Error(`SoftmaxLoss: embeddings have ${dim} dimensions, the classifier expects ${this.embeddingDim}`);
    }
    const parts: Value[] = [];
    if (this.concatenationSentRep) parts.push(u, v);
    if (this.concatenationSentDifference) parts.push(g.op1('Abs', [g.sub(u, v)]));
    if (this.concatenationSentMultiplication) parts.push(g.mul(u, v));
    const features = parts.length === 1 ? parts[0] : g.concat(parts, 1);
    const { weight, bias } = params.linear(['classifier.weight'], ['classifier.bias']);
    const logits = g.linear(features, g.cast(weight, u.dtype), bias ? g.cast(bias, u.dtype) : null);
    return crossEntropy(g, logits, labels, this.numLabels);
  }

  config(): Record<string, unknown> {
    return {
      num_labels: this.numLabels,
      concatenation_sent_rep: this.concatenationSentRep,
      concatenation_sent_difference: this.concatenationSentDifference,
      concatenation_sent_multiplication: this.concatenationSentMultiplication,
    };
  }

  /** The classifier's weights: created once (seeded), then the same buffers, which training updates in place. */
  parameters(): Map<string, Param> {
    this.params ??= this.initialParameters();
    return this.params;
  }

  private params: Map<string, Param> | null = null;

  private initialParameters(): Map<string, Param> {
    const fanIn = this.inFeatures;
    const bound = 1 / Math.sqrt(fanIn);
    const rng = new Rng(this.seed);
    const uniform = (n: number): Float32Array => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * bound);
    return new Map<string, Param>([
      ['classifier.weight', { shape: [this.numLabels, fanIn], data: uniform(this.numLabels * fanIn) }],
      ['classifier.bias', { shape: [this.numLabels], data: uniform(this.numLabels) }],
    ]);
  }
}
