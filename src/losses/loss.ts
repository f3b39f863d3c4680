// The contract every loss implements: given one embedding matrix per text column (and the
// labels, when the loss takes any) inside a training graph, add the nodes that compute the
// scalar loss. Gradients come from autodiff; the optimizer from the training graph.

import type { GraphBuilder } from '../graph/builder.js';
import type { Value } from '../graph/ir.js';
import type { Param, ParamSource } from '../models/params.js';

/**
 * What a loss takes as labels:
 * - none: no label column (MultipleNegativesRankingLoss, TripletLoss, …)
 * - score: one float per row (CosineSimilarityLoss, CoSENTLoss, AnglELoss, MarginMSELoss margins)
 * - class: one integer class per row (SoftmaxLoss, BatchHard/BatchAll triplet, ContrastiveLoss 0/1)
 * - embedding: one target vector per row (MSELoss distillation)
 */
export type LabelKind = 'none' | 'score' | 'class' | 'embedding';

export interface LossContext {
  g: GraphBuilder;
  /** One [batch, dim] matrix per text column, in the order the data gives the columns. */
  embeddings: Value[];
  /** [batch] float32 (score), [batch] int64 (class), [batch, k] float32 (embedding), or null. */
  labels: Value | null;
  /** Trainable weights the loss owns (SoftmaxLoss's classifier), fed by the training graph. */
  params: ParamSource;
}

export interface ColumnSpec {
  /** Role names in order, e.g. ['anchor', 'positive', 'negative'] (extra negatives: negative_2, …). */
  names: string[];
  min: number;
  /** Infinity for losses taking any number of hard-negative columns. */
  max: number;
}

/**
 * How the trainer runs an optimizer step for a loss that needs more than one forward pass:
 * 'gradcache' embeds the batch in mini-batches without gradients, takes ∂L/∂embeddings once and
 * back-propagates it mini-batch by mini-batch (the step runner's GradCache strategy).
 */
export interface StepDeclaration {
  kind: 'gradcache';
  /** Texts per forward pass. */
  miniBatchSize: number;
}

export interface Loss {
  /** The sentence-transformers class name, e.g. 'CoSENTLoss'. */
  readonly name: string;
  readonly columns: ColumnSpec;
  readonly labelKind: LabelKind;
  /** Adds the loss to the graph; returns a scalar. */
  build(ctx: LossContext): Value;
  /** Hyper-parameters as sentence-transformers' get_config_dict() (written to the model card). */
  config(): Record<string, unknown>;
  /** Trainable parameters of the loss itself (HF layout, Linear weights [out, in]). */
  parameters?(): Map<string, Param>;
  /** The step strategy the loss needs (none: the plain or accumulated step). */
  readonly step?: StepDeclaration;
}
