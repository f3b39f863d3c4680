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

/** Where the last step's wall time went on the JavaScript side, in milliseconds. */
export interface StepTimings {
  /** Stacking the columns into padded int64 input_ids and attention_mask. */
  stack: number;
  /** Drawing the dropout keep-masks. */
  masks: number;
  /** Building the feed and bound-output records (and gathering sparse embedding rows). */
  feeds: number;
  /** session.run: onnxruntime's own time plus the binding's tensor wrapping and copies. */
  run: number;
  /** Clipping and AdamW on the gradients, in place on the weights and moments. */
  update: number;
}

export interface StepStrategy {
  /** One optimizer step at learning rate `lr` as step number `t` (1-based, for bias correction). */
  run(micro: StepBatch[], lr: number, t: number): Promise<StepResult>;
  /** JavaScript-side timings of the last run (the plain step measures them; others give zeros). */
  readonly lastTimings: StepTimings;
  /** Ends profiling of the step sessions (created with `session.profile`), writing the traces. */
  endProfiling(): Promise<void>;
  close(): Promise<void>;
}

export const NO_TIMINGS: StepTimings = { stack: 0, masks: 0, feeds: 0, run: 0, update: 0 };

/** Label width of embedding labels (MSELoss), undefined otherwise. */
export function labelDimOf(labels: TensorData | null): number | undefined {
  return labels && labels.dims.length === 2 ? labels.dims[1] : undefined;
}

/** Feeds every parameter the graph reads as its full tensor. */
export function paramFeeds(inputs: readonly TrainableParam[], feeds: Record<string, TensorData>): void {
  for (const p of inputs) feeds[p.name] = { dtype: 'float32', dims: p.param.shape, data: p.param.data };
}
