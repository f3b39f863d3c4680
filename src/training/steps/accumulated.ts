// Gradient accumulation: k micro-batches, each adding (1/k)·∂L/∂p into the accumulators, then
// one clipped AdamW update (as the Hugging Face Trainer, which divides each micro-batch loss by k).

import { Accumulator } from './accumulator.js';
import type { StepBatch, StepContext, StepResult, StepStrategy } from './step.js';

export class AccumulatedStep implements StepStrategy {
  private readonly acc: Accumulator;

  constructor(c: StepContext) {
    this.acc = new Accumulator(c);
  }

  async run(micro: StepBatch[], lr: number, t: number): Promise<StepResult> {
    let loss = 0;
    let tokens = 0;
    let padded = 0;
    for (const [i, b] of micro.entries()) {
      const r = await this.acc.add(b.columns.flat(), b.columns.length, b.labels, 1 / micro.length, null, t, i);
      loss += r.loss / micro.length;
      tokens += r.tokens;
      padded += r.padded;
    }
    const upd = await this.acc.apply(lr, t, loss);
    return { loss, gradNorm: upd.gradNorm, finite: upd.finite && Number.isFinite(loss), tokens, paddedTokens: padded };
  }

  close(): Promise<void> {
    return this.acc.close();
  }
}
