// The contract of an optimizer-step strategy (plain, accumulated, GradCache): one call runs one
// optimizer step from one or more micro-batches of tokenized texts and reports the loss, the
// gradient norm, whether the update was applied (finite), and the real and padded token counts.

import type { TensorData } from '../../graph/ir.js';
import type { Loss } from '../../losses/loss.js';
import type { SentenceTransformer } from '../../models/sentence_transformer.js';
import type { AdamW } from '../optimizer.js';
import type { TrainableParam } from '../param_source.js';

export interface StepBatch {
  /** Token ids per column, each a list of examples' ids (with special tokens). */
  columns: number[][][];
  labels: TensorData | null;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  finite: boolean;
  tokens: number;
  paddedTokens: number;
}

/** What every strategy works with: the model, its loss, the parameters the step reads and the optimizer. */
export interface StepContext {
  model: SentenceTransformer;
  loss: Loss;
  params: TrainableParam[];
  optimizer: AdamW;
}

export interface StepStrategy {
  /** One optimizer step at learning rate `lr` as step number `t` (1-based, for bias correction). */
  run(micro: StepBatch[], lr: number, t: number): Promise<StepResult>;
  close(): Promise<void>;
}

/** Label width of embedding labels (MSELoss), undefined otherwise. */
export function labelDimOf(labels: TensorData | null): number | undefined {
  return labels && labels.dims.length === 2 ? labels.dims[1] : undefined;
}

/** Feeds every parameter the graph reads as its full tensor. */
export function paramFeeds(inputs: readonly TrainableParam[], feeds: Record<string, TensorData>): void {
  for (const p of inputs) feeds[p.name] = { dtype: 'float32', dims: p.param.shape, data: p.param.data };
}
