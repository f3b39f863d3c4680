// The one step runner: collects the parameters the step reads (model and loss), owns the AdamW
// state, and runs each optimizer step with the strategy the loss declares (GradCache) or the
// run asks for (gradient accumulation), else the plain one-graph step.

import type { Loss } from '../losses/loss.js';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { AdamW, type Moments, type OptimizerOptions } from './optimizer.js';
import type { TrainableParam } from './param_source.js';
import { AccumulatedStep } from './steps/accumulated.js';
import { GradCacheStep } from './steps/grad_cache.js';
import { PlainStep } from './steps/plain.js';
import type { StepBatch, StepResult, StepStrategy } from './steps/step.js';
import { collectParams } from './train_graph.js';

export type { OptimizerOptions } from './optimizer.js';
export type { StepBatch, StepResult } from './steps/step.js';

export interface StepRunnerOptions {
  /** Micro-batches per optimizer step (default 1). */
  accumulationSteps?: number;
  /** AdamW moments shared with other runners training the same model. */
  moments?: Moments;
}

export class StepRunner {
  readonly params: TrainableParam[];
  readonly optimizer: AdamW;
  readonly strategy: 'plain' | 'accumulated' | 'gradcache';
  private readonly impl: StepStrategy;

  constructor(readonly model: SentenceTransformer, readonly loss: Loss, opts: OptimizerOptions, o: StepRunnerOptions = {}) {
    this.params = collectParams(model, loss, opts.freezeWordEmbeddings);
    const declared = loss.step;
    // GradCache's second forward pass cannot replay the first's dropout masks: it runs without
    const optimizerOpts = declared?.kind === 'gradcache' ? { ...opts, dropoutSeed: null } : opts;
    this.optimizer = new AdamW(this.params, optimizerOpts, o.moments);
    const ctx = { model, loss, params: this.params, optimizer: this.optimizer };
    if (declared?.kind === 'gradcache') {
      this.strategy = 'gradcache';
      this.impl = new GradCacheStep(ctx, declared.miniBatchSize);
    } else if ((o.accumulationSteps ?? 1) > 1) {
      this.strategy = 'accumulated';
      this.impl = new AccumulatedStep(ctx);
    } else {
      this.strategy = 'plain';
      this.impl = new PlainStep(ctx);
    }
  }

  get moments(): Moments {
    return this.optimizer.moments;
  }

  /** One optimizer step from `micro` (one batch, or the micro-batches of an accumulated step). */
  run(micro: StepBatch | StepBatch[], lr: number, t: number): Promise<StepResult> {
    return this.impl.run(Array.isArray(micro) ? micro : [micro], lr, t);
  }

  close(): Promise<void> {
    return this.impl.close();
  }
}
